import { createHash } from 'node:crypto';
import { expect, test } from 'vitest';
import { describeNeeding } from '../../../test/harness/env.js';
import { fixturesMissing, readFixtureJson } from '../../../test/harness/fixtures.js';
import { computeTwilioSignature, signatureUrlCandidates, verifyTwilioSignature } from './twilio-signature.js';

interface Vector {
  name: string;
  url_received: string;
  signed_url: string;
  params: Record<string, string | string[]>;
  body?: string;
  expected_signature: string;
}

interface VectorFile {
  auth_token: string;
  negative_case: { url: string; params: Record<string, string>; signature: string; valid: boolean };
  vectors: Vector[];
}

describeNeeding('the shared fixtures', fixturesMissing, 'X-Twilio-Signature: twilio-node vectors', () => {
  const file = () => readFixtureJson<VectorFile>('sms', 'twilio_signature_test_vectors.json');

  test('the fixture has the vectors this test expects', () => {
    expect(file().vectors.length).toBeGreaterThanOrEqual(13);
  });

  test('every vector verifies against the URL as received', () => {
    const { auth_token: authToken, vectors } = file();
    const failures = vectors
      .filter(
        (v) =>
          !verifyTwilioSignature({
            authToken,
            url: v.url_received,
            signature: v.expected_signature,
            params: v.params,
            ...(v.body !== undefined && { rawBody: v.body }),
          }),
      )
      .map((v) => v.name);
    expect(failures).toEqual([]);
  });

  test('the URL Twilio signed is among the candidates tried for the URL received', () => {
    for (const v of file().vectors) expect(signatureUrlCandidates(v.url_received), v.name).toContain(v.signed_url);
  });

  test('form vectors: the signature is computed exactly over the signed URL and the sorted params', () => {
    const { auth_token: authToken, vectors } = file();
    for (const v of vectors.filter((x) => x.body === undefined)) {
      expect(computeTwilioSignature(authToken, v.signed_url, v.params), v.name).toBe(v.expected_signature);
    }
  });

  test('the negative case fails', () => {
    const { auth_token: authToken, negative_case: neg } = file();
    expect(neg.valid).toBe(false);
    expect(verifyTwilioSignature({ authToken, url: neg.url, signature: neg.signature, params: neg.params })).toBe(false);
  });

  test('a tampered parameter, URL, token or body fails', () => {
    const { auth_token: authToken, vectors } = file();
    const form = vectors.find((v) => v.name === 'default_params_no_port') as Vector;
    const ok = { authToken, url: form.url_received, signature: form.expected_signature, params: form.params };
    expect(verifyTwilioSignature(ok)).toBe(true);
    expect(verifyTwilioSignature({ ...ok, params: { ...form.params, Digits: '9999' } })).toBe(false);
    expect(verifyTwilioSignature({ ...ok, params: { ...form.params, Extra: 'x' } })).toBe(false);
    expect(verifyTwilioSignature({ ...ok, url: form.url_received.replace('foo=1', 'foo=2') })).toBe(false);
    expect(verifyTwilioSignature({ ...ok, authToken: '54321' })).toBe(false);
    expect(verifyTwilioSignature({ ...ok, signature: undefined })).toBe(false);
    expect(verifyTwilioSignature({ ...ok, signature: '' })).toBe(false);
    expect(verifyTwilioSignature({ ...ok, url: 'not a url' })).toBe(false);

    const json = vectors.find((v) => v.name === 'json_body_bodySHA256') as Vector;
    const jsonOk = { authToken, url: json.url_received, signature: json.expected_signature, rawBody: json.body as string };
    expect(verifyTwilioSignature(jsonOk)).toBe(true);
    expect(
      createHash('sha256')
        .update(json.body as string)
        .digest('hex'),
    ).toBe(new URL(json.url_received).searchParams.get('bodySHA256'));
    expect(verifyTwilioSignature({ ...jsonOk, rawBody: `${json.body} ` })).toBe(false);
    const { rawBody: _omitted, ...withoutBody } = jsonOk;
    expect(verifyTwilioSignature(withoutBody)).toBe(false);
  });
});
