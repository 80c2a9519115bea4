import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { type HttpStandin, startHttpStandin } from '../../../test/harness/http-standin.js';
import { providerFailure } from '../../../test/harness/provider-errors.js';
import { MastodonProvider, mastodonLength } from './mastodon.js';
import type { OutboundMessage } from './provider.js';

const message: OutboundMessage = {
  id: 'm-social',
  idempotencyKey: 'inc-7|social|mastodon|social-post|ack',
  channel: 'social',
  to: 'mastodon',
  text: 'Our online showroom is degraded. Spec sheets and price lists stay available at https://mirror.example.com/catalog/2024/spring-collection?ref=status',
  purpose: 'transactional',
  metadata: {},
};

const long = () => AbortSignal.timeout(5_000);
const NOW = Date.parse('2026-03-02T10:00:00Z');

describe('Mastodon statuses provider', () => {
  let mastodon: HttpStandin;
  let provider: MastodonProvider;

  beforeAll(async () => {
    mastodon = await startHttpStandin({
      respond: () => ({
        status: 200,
        body: { id: '111222333444555666', url: 'https://social.example/@showroom/111222333444555666' },
      }),
    });
    provider = new MastodonProvider({
      url: `${mastodon.url}/`,
      accessToken: 'token-abcdefgh',
      visibility: 'unlisted',
      characterLimit: 500,
      now: () => NOW,
    });
  });

  afterAll(async () => {
    await mastodon?.close();
  });

  beforeEach(() => mastodon.clear());

  test('POST /api/v1/statuses with the bearer token, the Idempotency-Key and {status, visibility}', async () => {
    const result = await provider.send(message, long());
    expect(result).toEqual({
      providerMessageId: '111222333444555666',
      status: 'sent',
      detail: 'https://social.example/@showroom/111222333444555666',
    });
    const [request] = mastodon.requests;
    expect(request?.method).toBe('POST');
    expect(request?.path).toBe('/api/v1/statuses');
    expect(request?.headers.authorization).toBe('Bearer token-abcdefgh');
    expect(request?.headers['idempotency-key']).toBe(message.idempotencyKey);
    expect(request?.json()).toEqual({ status: message.text, visibility: 'unlisted' });
  });

  test('a retry sends the same Idempotency-Key', async () => {
    await provider.send(message, long());
    await provider.send({ ...message, id: 'm-social-retry' }, long());
    expect(mastodon.requests.map((r) => r.headers['idempotency-key'])).toEqual([message.idempotencyKey, message.idempotencyKey]);
  });

  test('429: rate_limited until X-RateLimit-Reset (or Retry-After when given)', async () => {
    mastodon.script(
      {
        status: 429,
        headers: { 'x-ratelimit-limit': '300', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '2026-03-02T10:05:00.000Z' },
        body: { error: 'Too many requests' },
      },
      { status: 429, headers: { 'retry-after': '12' }, body: { error: 'Too many requests' } },
    );
    const reset = await providerFailure(provider.send(message, long()));
    expect([reset.kind, reset.retryAfterMs]).toEqual(['rate_limited', 5 * 60_000]);
    const retryAfter = await providerFailure(provider.send(message, long()));
    expect([retryAfter.kind, retryAfter.retryAfterMs]).toEqual(['rate_limited', 12_000]);
  });

  test('422 (validation, too long) and 401 are permanent; 5xx transient', async () => {
    mastodon.script(
      { status: 422, body: { error: 'Validation failed: Text character limit of 500 exceeded' } },
      { status: 401, body: { error: 'The access token is invalid' } },
      { status: 502, body: '<html>Bad gateway</html>' },
    );
    const e422 = await providerFailure(provider.send(message, long()));
    expect([e422.kind, e422.code]).toEqual(['permanent', 'http_422']);
    expect(e422.message).toContain('character limit');
    expect((await providerFailure(provider.send(message, long()))).kind).toBe('permanent');
    expect((await providerFailure(provider.send(message, long()))).kind).toBe('transient');
  });

  test('a post over the character limit (links count 23) is refused before sending', async () => {
    const long500 = `${'x'.repeat(480)} https://example.com/${'a'.repeat(200)}`;
    expect(mastodonLength(long500)).toBe(480 + 1 + 23);
    const err = await providerFailure(provider.send({ ...message, text: long500 }, long()));
    expect([err.kind, err.code]).toEqual(['permanent', 'too_long']);
    expect(mastodon.requests).toHaveLength(0);
    // Within the limit once links are counted as 23.
    await provider.send({ ...message, text: `${'x'.repeat(470)} https://example.com/${'a'.repeat(200)}` }, long());
    expect(mastodon.requests).toHaveLength(1);
  });

  test('network failure and deadline', async () => {
    mastodon.script({ drop: true });
    expect((await providerFailure(provider.send(message, long()))).kind).toBe('connection');
    mastodon.script({ delayMs: 300 });
    expect((await providerFailure(provider.send(message, AbortSignal.timeout(50)))).kind).toBe('timeout');
  });
});
