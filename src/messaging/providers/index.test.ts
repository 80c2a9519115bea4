import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type SmtpSink, startSmtpSink } from '../../../test/harness/smtp-sink.js';
import { startTwilioStandin, type TwilioStandin } from '../../../test/harness/twilio-standin.js';
import { loadConfig } from '../../config/config.js';
import { silentLogger } from '../../core/log.js';
import { createProviderRegistry } from './index.js';
import { type OutboundMessage, type Provider, ProviderError, type SendResult, warrantsFailover } from './provider.js';

const cwd = () => mkdtempSync(join(tmpdir(), 'kw-providers-'));
const configWith = (overrides: Record<string, unknown>) => loadConfig({ env: {}, cwd: cwd(), overrides });

const SID_A = `AC${'a'.repeat(32)}`;
const SID_B = `AC${'b'.repeat(32)}`;

describe('createProviderRegistry', () => {
  test('nothing configured: no chains', async () => {
    const registry = createProviderRegistry(configWith({}), silentLogger);
    expect(registry.describe()).toEqual([]);
    expect(registry.chain('email', false)).toEqual([]);
    await registry.close();
  });

  test('every channel, in failover order', async () => {
    const registry = createProviderRegistry(
      configWith({
        'smtp.url': 'smtp://mail-a.example:2525',
        'smtp.fallbackUrl': 'smtps://user:pass@mail-b.example',
        'twilio.accountSid': SID_A,
        'twilio.authToken': 'token-aaaaaaaa',
        'twilio.from': '+15005550006',
        'twilio.fallback': { accountSid: SID_B, authToken: 'token-bbbbbbbb', from: '+15005550007' },
        'slack.webhookUrl': 'https://hooks.slack.example/services/T/B/X',
        'mastodon.url': 'https://social.example',
        'mastodon.accessToken': 'mastodon-token',
        webhooks: [
          { name: 'crm', url: 'https://crm.example/hooks', secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' },
          { name: 'ops', url: 'https://ops.example/hooks', secret: 'an-ops-passphrase-of-enough-length' },
        ],
      }),
      silentLogger,
    );
    expect(registry.describe()).toEqual([
      { channel: 'email', providers: ['smtp:primary', 'smtp:fallback'] },
      { channel: 'sms', providers: ['twilio:primary', 'twilio:fallback'] },
      { channel: 'slack', providers: ['slack'] },
      { channel: 'social', providers: ['mastodon'] },
      { channel: 'webhook', providers: ['webhook'] },
    ]);
    const [smtpA, smtpB] = registry.chain('email', false);
    const message = { channel: 'email', to: 'a@b.example' } as OutboundMessage;
    expect(smtpA?.rateKey(message)).toBe('smtp:mail-a.example:2525');
    expect(smtpB?.rateKey(message)).toBe('smtp:mail-b.example:465');
    const [twA, twB] = registry.chain('sms', false);
    expect(twA?.rateKey(message)).toBe('twilio:+15005550006');
    expect(twB?.rateKey(message)).toBe('twilio:+15005550007');
    expect(typeof twA?.lookup).toBe('function');
    // Drills and sink mode never reach a real provider.
    expect(registry.chain('email', true).map((p) => p.name)).toEqual(['sink:email']);
    await registry.close();
  });

  test('sink mode: every channel delivers to the sink', async () => {
    const registry = createProviderRegistry(
      configWith({ 'messaging.sink': true, 'smtp.url': 'smtp://mail.example' }),
      silentLogger,
    );
    expect(registry.chain('email', false).map((p) => p.name)).toEqual(['sink:email']);
    expect(registry.describe()).toEqual([{ channel: 'email', providers: ['sink'] }]);
    await registry.close();
  });

  test('half-configured Twilio or Mastodon is left out', async () => {
    const registry = createProviderRegistry(
      configWith({ 'twilio.accountSid': SID_A, 'mastodon.url': 'https://social.example' }),
      silentLogger,
    );
    expect(registry.describe()).toEqual([]);
    await registry.close();
  });
});

/** The outbox's failover loop, reduced: try each provider while the failure warrants it. */
async function sendThrough(chain: Provider[], message: OutboundMessage): Promise<{ via: string; result: SendResult }> {
  let last: unknown;
  for (const provider of chain) {
    try {
      return { via: provider.name, result: await provider.send(message, AbortSignal.timeout(5_000)) };
    } catch (err) {
      last = err;
      if (!warrantsFailover(err)) break;
    }
  }
  throw last;
}

describe('failover between configured providers', () => {
  let primary: SmtpSink;
  let fallback: SmtpSink;
  let twilio: TwilioStandin;

  beforeAll(async () => {
    [primary, fallback, twilio] = await Promise.all([
      startSmtpSink(),
      startSmtpSink(),
      startTwilioStandin({
        accounts: [
          { accountSid: SID_A, authToken: 'token-aaaaaaaa', from: '+15005550006' },
          { accountSid: SID_B, authToken: 'token-bbbbbbbb', from: '+15005550007' },
        ],
      }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([primary?.stop(), fallback?.stop(), twilio?.close()]);
  });

  test('email: primary down → fallback delivers the same Message-ID; a 550 does not fail over', async () => {
    const registry = createProviderRegistry(
      configWith({ 'smtp.url': primary.url, 'smtp.fallbackUrl': fallback.url, 'smtp.timeoutSeconds': 1 }),
      silentLogger,
    );
    try {
      const chain = registry.chain('email', false);
      const message: OutboundMessage = {
        id: 'm1',
        idempotencyKey: 'inc|email|lee@buyer.example|ack|1',
        channel: 'email',
        to: 'lee@buyer.example',
        subject: 'Showroom status',
        text: 'We are on it.',
        purpose: 'transactional',
        metadata: {},
      };
      const first = await sendThrough(chain, message);
      expect(first.via).toBe('smtp:primary');
      await primary.down();
      const second = await sendThrough(chain, message);
      expect(second.via).toBe('smtp:fallback');
      expect(second.result.providerMessageId).toBe(first.result.providerMessageId);
      expect((await fallback.messages({ raw: false }))[0]?.messageId).toBe(first.result.providerMessageId);

      await primary.up();
      await primary.rejectRecipient('gone@buyer.example');
      const err = await sendThrough(chain, { ...message, to: 'gone@buyer.example' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ProviderError);
      expect((err as ProviderError).kind).toBe('recipient');
      expect((await fallback.stats()).transactions).toBe(1);
    } finally {
      await registry.close();
    }
  });

  test('sms: primary account failing with 5xx → fallback account; 429 stays on the primary', async () => {
    const registry = createProviderRegistry(
      configWith({
        'twilio.accountSid': SID_A,
        'twilio.authToken': 'token-aaaaaaaa',
        'twilio.from': '+15005550006',
        'twilio.baseUrl': twilio.url,
        'twilio.fallback': { accountSid: SID_B, authToken: 'token-bbbbbbbb', from: '+15005550007', baseUrl: twilio.url },
      }),
      silentLogger,
    );
    const chain = registry.chain('sms', false);
    const message: OutboundMessage = {
      id: 'm2',
      idempotencyKey: 'inc|sms|+15005550100|sms|1',
      channel: 'sms',
      to: '+15005550100',
      text: 'Showroom down; reply 1 for specs',
      purpose: 'transactional',
      metadata: {},
    };
    twilio.failNext(503);
    const sent = await sendThrough(chain, message);
    expect(sent.via).toBe('twilio:fallback');
    expect(twilio.messages.map((m) => [m.resource.account_sid, m.resource.from])).toEqual([[SID_B, '+15005550007']]);

    twilio.failNext(429, { retryAfter: '1' });
    const limited = await sendThrough(chain, message).catch((e: unknown) => e);
    expect((limited as ProviderError).kind).toBe('rate_limited');
    expect(twilio.messages).toHaveLength(1);
    await registry.close();
  });
});
