import { describe, expect, test } from 'vitest';
import { AppError } from '../../core/errors.js';
import { adapterFor } from './adapters/index.js';
import type { IntakeSource } from './alert.js';
import { authenticateIntake, digestEqual, hmacHex, type IntakeSecrets, signatureFor, verifySignature } from './auth.js';

const TOKEN = 'intake-token-0123456789';
const SECRET = 'hmac-secret-0123456789';
const BODY = Buffer.from('{"event":{"event_type":"pagey.ping"}}');

function outcome(
  source: IntakeSource,
  secrets: IntakeSecrets | undefined,
  headers: Record<string, string> = {},
  query: Record<string, string> = {},
  body: Buffer = BODY,
): string {
  try {
    authenticateIntake({ adapter: adapterFor(source), secrets, headers, query, rawBody: body });
    return 'ok';
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    return `${err.status} ${err.code}`;
  }
}

describe('intake authentication', () => {
  test('signatures: HMAC-SHA256 hex over the raw body; any of several comma-separated may match', () => {
    const scheme = { header: 'x-pagerduty-signature', prefix: 'v1=' };
    const good = signatureFor(scheme, SECRET, BODY);
    expect(good).toBe(`v1=${hmacHex(SECRET, BODY)}`);
    expect(verifySignature(scheme, good, SECRET, BODY)).toBe('valid');
    expect(verifySignature(scheme, `v1=${'0'.repeat(64)}, ${good}`, SECRET, BODY)).toBe('valid');
    expect(verifySignature(scheme, `v1=${'0'.repeat(64)}`, SECRET, BODY)).toBe('invalid');
    expect(verifySignature(scheme, good, SECRET, Buffer.from(`${BODY} `))).toBe('invalid');
    expect(verifySignature(scheme, 'v1=zz', SECRET, BODY)).toBe('invalid');
    expect(verifySignature(scheme, '', SECRET, BODY)).toBe('missing');
    expect(digestEqual('a', 'a')).toBe(true);
    expect(digestEqual('a', 'ab')).toBe(false);
  });

  test('nothing configured: 503, never an open endpoint; an HMAC key alone on a source that cannot sign is not enough', () => {
    expect(outcome('alertmanager', undefined)).toBe('503 intake_not_configured');
    expect(outcome('alertmanager', {})).toBe('503 intake_not_configured');
    expect(outcome('grafana', { hmacSecret: SECRET })).toBe('503 intake_not_configured');
  });

  test('bearer token: missing 401, wrong 403, right passes; Statuspage may send it as ?token=', () => {
    const secrets = { token: TOKEN };
    expect(outcome('alertmanager', secrets)).toBe('401 unauthenticated');
    expect(outcome('alertmanager', secrets, { authorization: 'Basic abc' })).toBe('401 unauthenticated');
    expect(outcome('alertmanager', secrets, { authorization: 'Bearer wrong-token' })).toBe('403 invalid_token');
    expect(outcome('alertmanager', secrets, { authorization: `Bearer ${TOKEN}` })).toBe('ok');
    expect(outcome('alertmanager', secrets, {}, { token: TOKEN })).toBe('401 unauthenticated');
    expect(outcome('statuspage', secrets, {}, { token: TOKEN })).toBe('ok');
    expect(outcome('statuspage', secrets, {}, { token: 'nope' })).toBe('403 invalid_token');
  });

  test('PagerDuty and generic signatures; both credentials required when both are configured', () => {
    const pd = { hmacSecret: SECRET };
    const sig = `v1=${hmacHex(SECRET, BODY)}`;
    expect(outcome('pagerduty', pd)).toBe('401 signature_missing');
    expect(outcome('pagerduty', pd, { 'x-pagerduty-signature': `v1=${hmacHex('another-secret-123456', BODY)}` })).toBe(
      '403 invalid_signature',
    );
    expect(outcome('pagerduty', pd, { 'x-pagerduty-signature': sig })).toBe('ok');
    expect(outcome('generic', pd, { 'x-keepwarm-signature': `sha256=${hmacHex(SECRET, BODY)}` })).toBe('ok');
    expect(outcome('generic', pd, { 'x-keepwarm-signature': sig })).toBe('403 invalid_signature');
    const both = { token: TOKEN, hmacSecret: SECRET };
    expect(outcome('pagerduty', both, { 'x-pagerduty-signature': sig })).toBe('401 unauthenticated');
    expect(outcome('pagerduty', both, { authorization: `Bearer ${TOKEN}` })).toBe('401 signature_missing');
    expect(outcome('pagerduty', both, { authorization: `Bearer ${TOKEN}`, 'x-pagerduty-signature': sig })).toBe('ok');
  });
});
