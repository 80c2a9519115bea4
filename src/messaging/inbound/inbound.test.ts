import { describe, expect, test } from 'vitest';
import { parseMultipartFields, twilioParamsOf } from './inbound.routes.js';
import { describeTwilioError } from './inbound.service.js';
import { maskAddress } from './unsubscribe.pages.js';

describe('inbound helpers', () => {
  test('Twilio params: strings kept, repeated names as arrays, odd values as text, never a prototype', () => {
    const params = twilioParamsOf({ Body: 'hi', MediaUrl: ['a', 'b'], NumMedia: 0, Flag: true, Nested: { x: 1 }, Nothing: null });
    expect({ ...params }).toEqual({ Body: 'hi', MediaUrl: ['a', 'b'], NumMedia: '0', Flag: 'true', Nested: '{"x":1}' });
    expect(Object.getPrototypeOf(params)).toBeNull();
    for (const garbage of [undefined, null, 'text', 42, ['a']]) expect({ ...twilioParamsOf(garbage) }).toEqual({});
  });

  test('multipart one-click bodies (RFC 8058) are read; anything unreadable yields no fields', () => {
    const body = [
      '--XyZ',
      'Content-Disposition: form-data; name="List-Unsubscribe"',
      '',
      'One-Click',
      '--XyZ',
      'Content-Disposition: form-data; name="file"; filename="a.txt"',
      'Content-Type: text/plain',
      '',
      'ignored',
      '--XyZ--',
      '',
    ].join('\r\n');
    expect({ ...parseMultipartFields('multipart/form-data; boundary=XyZ', body) }).toEqual({ 'List-Unsubscribe': 'One-Click' });
    expect({ ...parseMultipartFields('multipart/form-data; boundary="XyZ"', body.replaceAll('\r\n', '\n')) }).toEqual({
      'List-Unsubscribe': 'One-Click',
    });
    expect({ ...parseMultipartFields('multipart/form-data', body) }).toEqual({});
    expect({ ...parseMultipartFields('multipart/form-data; boundary=nope', 'garbage') }).toEqual({});
    expect({ ...parseMultipartFields('multipart/form-data; boundary=XyZ', '--XyZ\r\nno blank line') }).toEqual({});
  });

  test('addresses are masked for the unsubscribe page', () => {
    expect(maskAddress('email', 'jane.doe@example.com')).toBe('j•••@e•••.com');
    expect(maskAddress('email', 'x@localhost')).toBe('x•••@l•••');
    expect(maskAddress('email', 'not-an-email')).toBe('n•••');
    expect(maskAddress('sms', '+1 925 392 0364')).toBe('•••••••0364');
    expect(maskAddress('sms', '12')).toBe('•••');
  });

  test('Twilio error codes become readable reasons', () => {
    expect(describeTwilioError('30003')).toBe('30003 Unreachable destination handset');
    expect(describeTwilioError('21610')).toBe('21610 Attempt to send to unsubscribed recipient');
    expect(describeTwilioError('30003', 'Handset off')).toBe('30003 Handset off');
    expect(describeTwilioError('12345')).toBe('12345 (Twilio error, see twilio.com/docs/api/errors/12345)');
  });
});
