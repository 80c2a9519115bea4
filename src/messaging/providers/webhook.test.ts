import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { type HttpStandin, startHttpStandin } from '../../../test/harness/http-standin.js';
import { providerFailure } from '../../../test/harness/provider-errors.js';
import type { OutboundMessage } from './provider.js';
import {
  buildWebhookPayload,
  decodeWebhookSecret,
  signWebhook,
  verifyWebhook,
  WebhookProvider,
  webhookHeaders,
  webhookMessageId,
} from './webhook.js';

// The published test vector of the Standard Webhooks specification (its reference libraries' tests).
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

describe('Standard Webhooks signatures', () => {
  test('reproduce the specification’s test vector', () => {
    expect(signWebhook(VECTOR)).toBe(VECTOR.signature);
    // The reference libraries accept the secret without its prefix too.
    expect(signWebhook({ ...VECTOR, secret: VECTOR.secret.slice('whsec_'.length) })).toBe(VECTOR.signature);
  });

  test('verify the test vector within the tolerance, and nothing altered', () => {
    const now = VECTOR.timestamp * 1000 + 10_000;
    const base = {
      id: VECTOR.id,
      timestamp: String(VECTOR.timestamp),
      signature: VECTOR.signature,
      body: VECTOR.body,
      secret: VECTOR.secret,
      now,
    };
    expect(verifyWebhook(base)).toBe(true);
    expect(verifyWebhook({ ...base, body: '{"test": 2432232315}' })).toBe(false);
    expect(verifyWebhook({ ...base, id: 'msg_other' })).toBe(false);
    expect(verifyWebhook({ ...base, timestamp: String(VECTOR.timestamp + 1) })).toBe(false);
    expect(verifyWebhook({ ...base, secret: 'whsec_c2VjcmV0LW9mLWEtcm90YXRlZC1lbmRwb2ludA==' })).toBe(false);
    expect(verifyWebhook({ ...base, now: VECTOR.timestamp * 1000 + 6 * 60_000 })).toBe(false); // replayed too late
    expect(verifyWebhook({ ...base, signature: undefined })).toBe(false);
    expect(verifyWebhook({ ...base, timestamp: 'soon' })).toBe(false);
    // Rotation: several signatures, one valid; several secrets, one right.
    expect(verifyWebhook({ ...base, signature: `v1,bm90IGl0 ${VECTOR.signature} v1a,xyz` })).toBe(true);
    expect(verifyWebhook({ ...base, secret: ['whsec_c2VjcmV0LW9mLWEtcm90YXRlZC1lbmRwb2ludA==', VECTOR.secret] })).toBe(true);
  });

  test('sign with several secrets while rotating: one entry each, space-separated', () => {
    const header = signWebhook({ ...VECTOR, secret: [VECTOR.secret, 'whsec_c2VjcmV0LW9mLWEtcm90YXRlZC1lbmRwb2ludA=='] });
    expect(header.split(' ')).toHaveLength(2);
    expect(header.startsWith(`${VECTOR.signature} v1,`)).toBe(true);
  });

  test('secrets: whsec_ base64 of 24–64 bytes; unprefixed base64 decoded; anything else used as UTF-8 bytes', () => {
    expect(decodeWebhookSecret(VECTOR.secret)).toHaveLength(24);
    expect(() => decodeWebhookSecret('whsec_c2hvcnQ=')).toThrow(/24 to 64 bytes/);
    expect(() => decodeWebhookSecret('whsec_not base64 at all!!')).toThrow();
    expect(decodeWebhookSecret('correct-horse-battery-staple-2024')).toEqual(Buffer.from('correct-horse-battery-staple-2024'));
  });

  test('ids with "." are refused (the signed content is dot-delimited)', () => {
    expect(() => signWebhook({ ...VECTOR, id: 'a.b' })).toThrow();
    expect(webhookMessageId('inc.1|webhook|crm|tpl.v2|step.3')).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(webhookMessageId('a')).toBe(webhookMessageId('a'));
    expect(webhookMessageId('a')).not.toBe(webhookMessageId('b'));
  });

  test('webhookHeaders gives the three headers', () => {
    expect(webhookHeaders(VECTOR)).toEqual({
      'webhook-id': VECTOR.id,
      'webhook-timestamp': String(VECTOR.timestamp),
      'webhook-signature': VECTOR.signature,
    });
  });
});

function webhookMessage(overrides: Partial<OutboundMessage> = {}): OutboundMessage {
  return {
    id: 'm-hook',
    idempotencyKey: 'inc-9|webhook|crm|lead-tagging.v1|tag',
    channel: 'webhook',
    to: 'crm',
    text: '{"event":"outage.declared","leads":["L-1","L-2"]}',
    purpose: 'transactional',
    metadata: {},
    ...overrides,
  };
}

const long = () => AbortSignal.timeout(5_000);
const NOW = 1_767_000_000_000;

describe('webhook provider', () => {
  let receiver: HttpStandin;
  let other: HttpStandin;
  let provider: WebhookProvider;
  const crmSecret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const opsSecret = 'a-passphrase-secret-for-the-ops-hook!';

  beforeAll(async () => {
    receiver = await startHttpStandin({ respond: () => ({ status: 204 }) });
    other = await startHttpStandin({ respond: () => ({ status: 200, body: { received: true } }) });
    provider = new WebhookProvider({
      targets: [
        { name: 'crm', url: `${receiver.url}/hooks/keepwarm`, secret: crmSecret },
        { name: 'ops', url: `${other.url}/in`, secret: opsSecret },
      ],
      now: () => NOW,
    });
  });

  afterAll(async () => {
    await receiver?.close();
    await other?.close();
  });

  beforeEach(() => {
    receiver.clear();
    other.clear();
  });

  test('posts a signed delivery to the webhook named by message.to; the signature verifies', async () => {
    const message = webhookMessage();
    const result = await provider.send(message, long());
    expect(result.status).toBe('sent');
    expect(result.providerMessageId).toBe(webhookMessageId(message.idempotencyKey));
    expect(other.requests).toHaveLength(0);

    const [request] = receiver.requests;
    expect(request?.path).toBe('/hooks/keepwarm');
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers['webhook-id']).toBe(result.providerMessageId);
    expect(request?.headers['webhook-timestamp']).toBe(String(Math.floor(NOW / 1000)));
    expect(
      verifyWebhook({
        id: request?.headers['webhook-id'] as string,
        timestamp: request?.headers['webhook-timestamp'] as string,
        signature: request?.headers['webhook-signature'] as string,
        body: request?.body ?? '',
        secret: crmSecret,
        now: NOW,
      }),
    ).toBe(true);
    expect(request?.json()).toEqual({
      type: 'keepwarm.message',
      data: {
        messageId: 'm-hook',
        idempotencyKey: message.idempotencyKey,
        webhook: 'crm',
        purpose: 'transactional',
        text: message.text,
        json: { event: 'outage.declared', leads: ['L-1', 'L-2'] },
      },
    });
  });

  test('the same webhook-id on every retry; another target, its own secret', async () => {
    await provider.send(webhookMessage(), long());
    await provider.send(webhookMessage({ id: 'retry-row' }), long());
    const ids = receiver.requests.map((r) => r.headers['webhook-id']);
    expect(ids[0]).toBe(ids[1]);

    await provider.send(webhookMessage({ to: 'ops', text: 'plain words, not JSON', subject: 'Heads up' }), long());
    const [request] = other.requests;
    const verify = (secret: string) =>
      verifyWebhook({
        id: request?.headers['webhook-id'] as string,
        timestamp: request?.headers['webhook-timestamp'] as string,
        signature: request?.headers['webhook-signature'] as string,
        body: request?.body ?? '',
        secret,
        now: NOW,
      });
    expect(verify(opsSecret)).toBe(true);
    expect(verify(crmSecret)).toBe(false);
    expect((other.requests[0]?.json() as { data?: Record<string, unknown> } | undefined)?.data).toEqual({
      messageId: 'm-hook',
      idempotencyKey: 'inc-9|webhook|crm|lead-tagging.v1|tag',
      webhook: 'ops',
      purpose: 'transactional',
      subject: 'Heads up',
      text: 'plain words, not JSON',
    });
  });

  test('an unknown webhook name is permanent, nothing sent', async () => {
    const err = await providerFailure(provider.send(webhookMessage({ to: 'nobody' }), long()));
    expect([err.kind, err.code]).toEqual(['permanent', 'unknown_webhook']);
    expect(receiver.requests).toHaveLength(0);
  });

  test.each([
    [{ status: 410 }, 'permanent', undefined],
    [{ status: 429, headers: { 'retry-after': '20' } }, 'rate_limited', 20_000],
    [{ status: 500 }, 'transient', undefined],
    [{ status: 502 }, 'transient', undefined],
    [{ status: 503, headers: { 'retry-after': '5' } }, 'transient', 5_000],
    [{ status: 504 }, 'transient', undefined],
    [{ status: 408 }, 'transient', undefined],
    [{ status: 400 }, 'permanent', undefined],
    [{ status: 401 }, 'permanent', undefined],
    [{ status: 404 }, 'permanent', undefined],
    [{ status: 301, headers: { location: 'https://elsewhere.example/' } }, 'permanent', undefined],
  ])('%j → %s', async (answer, kind, retryAfterMs) => {
    receiver.script(answer);
    const err = await providerFailure(provider.send(webhookMessage(), long()));
    expect([err.kind, err.retryAfterMs]).toEqual([kind, retryAfterMs]);
    expect(err.code).toBe(`http_${answer.status}`);
  });

  test('any 2xx is success', async () => {
    receiver.script({ status: 200, body: 'ok' }, { status: 202 });
    await provider.send(webhookMessage(), long());
    await provider.send(webhookMessage(), long());
  });

  test('timeouts and dropped connections', async () => {
    receiver.script({ delayMs: 300 });
    expect((await providerFailure(provider.send(webhookMessage(), AbortSignal.timeout(50)))).kind).toBe('timeout');
    receiver.script({ drop: true });
    expect((await providerFailure(provider.send(webhookMessage(), long()))).kind).toBe('connection');
  });

  test('a malformed whsec_ secret is refused when the provider is built, naming the webhook', () => {
    expect(
      () => new WebhookProvider({ targets: [{ name: 'crm', url: 'https://crm.example/h', secret: 'whsec_dG9vIHNob3J0' }] }),
    ).toThrow(/webhooks "crm": secret/);
  });

  test('payload: JSON text is also given parsed; other text is not', () => {
    expect(buildWebhookPayload(webhookMessage({ text: ' [1,2] ' })).data.json).toEqual([1, 2]);
    expect(buildWebhookPayload(webhookMessage({ text: '{not json' })).data).not.toHaveProperty('json');
    expect(buildWebhookPayload(webhookMessage({ text: '42' })).data).not.toHaveProperty('json');
  });
});
