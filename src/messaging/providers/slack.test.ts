import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { type HttpStandin, startHttpStandin } from '../../../test/harness/http-standin.js';
import { providerFailure } from '../../../test/harness/provider-errors.js';
import type { OutboundMessage } from './provider.js';
import { SlackProvider } from './slack.js';

const message: OutboundMessage = {
  id: 'm-slack',
  idempotencyKey: 'inc-1|slack|ops|internal-update|u1',
  channel: 'slack',
  to: 'ops',
  text: ':rotating_light: Showroom API down since 10:02 UTC. Fallback mirror live. Next update 10:45.',
  purpose: 'transactional',
  metadata: {},
};

const long = () => AbortSignal.timeout(5_000);

describe('Slack incoming webhook provider', () => {
  let slack: HttpStandin;
  let provider: SlackProvider;

  beforeAll(async () => {
    slack = await startHttpStandin({ respond: () => ({ status: 200, body: 'ok' }) });
    provider = new SlackProvider({ webhookUrl: `${slack.url}/services/T000/B000/XXXX` });
  });

  afterAll(async () => {
    await slack?.close();
  });

  beforeEach(() => slack.clear());

  test('POSTs {"text"} as JSON to the webhook URL; the idempotency key stands in for a message id', async () => {
    const result = await provider.send(message, long());
    expect(result).toEqual({ providerMessageId: message.idempotencyKey, status: 'sent', detail: 'ok' });
    const [request] = slack.requests;
    expect(request?.method).toBe('POST');
    expect(request?.path).toBe('/services/T000/B000/XXXX');
    expect(request?.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(request?.json()).toEqual({ text: message.text });
    expect(provider.name).toBe('slack');
    expect(provider.rateKey()).toBeNull();
  });

  test('429 is rate_limited with Retry-After', async () => {
    slack.script({ status: 429, headers: { 'retry-after': '30' }, body: 'rate_limited' });
    const err = await providerFailure(provider.send(message, long()));
    expect([err.kind, err.retryAfterMs, err.code]).toEqual(['rate_limited', 30_000, 'rate_limited']);
  });

  test('5xx is transient', async () => {
    slack.script({ status: 500, body: 'rollup_error' }, { status: 503, body: '<html>unavailable</html>' });
    const e500 = await providerFailure(provider.send(message, long()));
    expect([e500.kind, e500.code]).toEqual(['transient', 'rollup_error']);
    const e503 = await providerFailure(provider.send(message, long()));
    expect([e503.kind, e503.code]).toEqual(['transient', 'http_503']);
  });

  test.each([
    [400, 'invalid_payload'],
    [403, 'action_prohibited'],
    [404, 'no_service'],
    [410, 'channel_is_archived'],
  ])('%i %s is permanent, with Slack’s word as the code', async (status, word) => {
    slack.script({ status, body: word });
    const err = await providerFailure(provider.send(message, long()));
    expect([err.kind, err.code]).toEqual(['permanent', word]);
  });

  test('network failure and deadline', async () => {
    slack.script({ drop: true });
    expect((await providerFailure(provider.send(message, long()))).kind).toBe('connection');
    slack.script({ delayMs: 300 });
    expect((await providerFailure(provider.send(message, AbortSignal.timeout(50)))).kind).toBe('timeout');
  });
});
