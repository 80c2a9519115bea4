import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { providerFailure } from '../../../test/harness/provider-errors.js';
import { type SmtpSink, startSmtpSink } from '../../../test/harness/smtp-sink.js';
import type { OutboundMessage, Provider } from './provider.js';
import { classifySmtpError, messageIdFor, SmtpProvider } from './smtp.js';

const FROM = 'Keepwarm Status <status@showroom.example>';

function email(overrides: Partial<OutboundMessage> = {}): OutboundMessage {
  return {
    id: '0190c0de-0000-7000-8000-000000000001',
    idempotencyKey: 'inc-1|email|dana@buyer.example|initial-ack|ack',
    channel: 'email',
    to: 'dana@buyer.example',
    toName: 'Dana Buyer',
    subject: 'Our showroom is having trouble',
    text: 'Hello Dana,\n\nThe showroom is down. Spec sheets: https://mirror.example/specs\n',
    html: '<p>Hello Dana,</p><p>The showroom is down. <a href="https://mirror.example/specs">Spec sheets</a></p>',
    purpose: 'marketing',
    unsubscribeUrl: 'https://status.example.test/u/tok123',
    metadata: {},
    ...overrides,
  };
}

const long = () => AbortSignal.timeout(10_000);

describe('SMTP provider against a real SMTP server', () => {
  let sink: SmtpSink;
  let provider: SmtpProvider;

  beforeAll(async () => {
    sink = await startSmtpSink();
    provider = new SmtpProvider({
      name: 'smtp:primary',
      url: sink.url,
      from: FROM,
      replyTo: 'support@showroom.example',
      maxConnections: 3,
      timeoutMs: 600,
    });
  });

  afterAll(async () => {
    await provider?.close();
    await sink?.stop();
  });

  beforeEach(async () => {
    await sink.reset();
  });

  test('delivers text + html with From, Reply-To, one-click unsubscribe and a Message-ID from the idempotency key', async () => {
    const message = email();
    const result = await provider.send(message, long());
    expect(result.status).toBe('sent');
    expect(result.providerMessageId).toBe(messageIdFor(message.idempotencyKey, FROM));
    expect(result.detail).toMatch(/^250 /);

    const [mail] = await sink.parsed();
    expect(mail?.envelope).toEqual({ mailFrom: 'status@showroom.example', rcptTo: ['dana@buyer.example'] });
    expect(mail?.headers.from).toBe('Keepwarm Status <status@showroom.example>');
    expect(mail?.fromAddress).toBe('status@showroom.example');
    expect(mail?.headers['reply-to']).toBe('support@showroom.example');
    expect(mail?.headers.to).toBe('Dana Buyer <dana@buyer.example>');
    expect(mail?.subject).toBe('Our showroom is having trouble');
    expect(mail?.messageId).toBe(result.providerMessageId);
    expect(mail?.messageId).toMatch(/^<[0-9a-f]{32}@showroom\.example>$/);
    // RFC 8058: the HTTPS URI in List-Unsubscribe, and the one-click marker.
    expect(mail?.headers['list-unsubscribe']).toBe('<https://status.example.test/u/tok123>');
    expect(mail?.headers['list-unsubscribe-post']).toBe('List-Unsubscribe=One-Click');
    expect(mail?.headers['content-type']).toMatch(/^multipart\/alternative/);
    expect(mail?.text?.trim()).toBe(message.text.trim());
    expect(mail?.html).toBe(message.html);
  });

  test('a retry of the same message carries the same Message-ID; the sink counts both deliveries', async () => {
    const first = await provider.send(email(), long());
    const again = await provider.send(email({ id: 'another-attempt-row' }), long());
    const other = await provider.send(email({ idempotencyKey: 'inc-1|email|dana@buyer.example|initial-ack|update-1' }), long());
    expect(again.providerMessageId).toBe(first.providerMessageId);
    expect(other.providerMessageId).not.toBe(first.providerMessageId);
    const stats = await sink.stats();
    expect(stats.accepted).toBe(3);
    expect(stats.uniqueMessageIds).toBe(2);
    expect(stats.duplicates).toBe(1);
    const ids = (await sink.messages({ raw: false })).map((m) => m.messageId);
    expect(ids).toEqual([first.providerMessageId, first.providerMessageId, other.providerMessageId]);
  });

  test('plain text only, no unsubscribe headers when there is no unsubscribe URL', async () => {
    await provider.send(email({ html: undefined, unsubscribeUrl: undefined, toName: undefined }), long());
    const [mail] = await sink.parsed();
    expect(mail?.headers['content-type']).toMatch(/^text\/plain/);
    expect(mail?.headers['list-unsubscribe']).toBeUndefined();
    expect(mail?.headers['list-unsubscribe-post']).toBeUndefined();
    expect(mail?.headers.to).toBe('dana@buyer.example');
    expect(mail?.html).toBeUndefined();
  });

  test('one pool: many concurrent sends share at most maxConnections connections', async () => {
    const sends = Array.from({ length: 30 }, (_, i) =>
      provider.send(email({ idempotencyKey: `k${i}`, to: `lead${i}@buyer.example` }), long()),
    );
    await Promise.all(sends);
    const stats = await sink.stats();
    expect(stats.accepted).toBe(30);
    expect(stats.connections).toBeLessThanOrEqual(3);
  });

  test('421 (service unavailable) and 451 (try later) are transient, wherever they come', async () => {
    await sink.fail({ code: 421, stage: 'MAIL' });
    const e421 = await providerFailure(provider.send(email(), long()));
    expect(e421.kind).toBe('transient');
    expect(e421.code).toBe('421');

    await sink.fail({ code: 451, stage: 'RCPT' });
    const e451 = await providerFailure(provider.send(email(), long()));
    expect(e451.kind).toBe('transient');
    expect(e451.code).toBe('451');

    await sink.fail({ code: 451, stage: 'DATA' });
    expect((await providerFailure(provider.send(email(), long()))).kind).toBe('transient');

    await sink.fail({ code: 421, stage: 'CONNECT' });
    expect((await providerFailure(provider.send(email(), long()))).kind).toBe('transient');

    // The server recovers; the next send goes through on the same provider.
    await provider.send(email(), long());
    expect((await sink.stats()).accepted).toBe(1);
  });

  test('550 for a recipient is a recipient error; a 554 to DATA is permanent', async () => {
    await sink.rejectRecipient('gone@buyer.example');
    const rcpt = await providerFailure(provider.send(email({ to: 'gone@buyer.example' }), long()));
    expect(rcpt.kind).toBe('recipient');
    expect(rcpt.code).toBe('550');
    expect(rcpt.suppress).toBe(false);

    await sink.fail({ code: 554, stage: 'DATA', message: '5.7.1 Message rejected as spam' });
    const data = await providerFailure(provider.send(email(), long()));
    expect(data.kind).toBe('permanent');
    expect(data.code).toBe('554');
  });

  test('server down: connection error; back up: delivers again', async () => {
    await provider.send(email(), long()); // leaves an idle pooled connection behind
    await sink.down();
    const err = await providerFailure(provider.send(email(), long()));
    expect(err.kind).toBe('connection');
    await sink.up();
    await provider.send(email(), long());
    expect((await sink.stats()).accepted).toBe(2);
  });

  test('a server that never answers: timeout (socket timeout from config)', async () => {
    await sink.stall({ stage: 'DATA' });
    const started = Date.now();
    const err = await providerFailure(provider.send(email(), long()));
    expect(err.kind).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(5_000);
    await sink.stall({ stage: 'CONNECT' }); // no greeting
    expect((await providerFailure(provider.send(email(), long()))).kind).toBe('timeout');
    expect((await sink.stats()).accepted).toBe(0);
  });

  test('connection dropped in the middle of DATA: connection error, nothing accepted', async () => {
    await sink.drop({ stage: 'DATA' });
    const err = await providerFailure(provider.send(email(), long()));
    expect(err.kind).toBe('connection');
    expect((await sink.stats()).accepted).toBe(0);
  });

  test('the caller’s deadline: timeout; a send still waiting for a connection slot is withdrawn, never sent later', async () => {
    const narrow = new SmtpProvider({ name: 'smtp:narrow', url: sink.url, from: FROM, maxConnections: 1, timeoutMs: 2_000 });
    try {
      await sink.latency(300);
      const first = narrow.send(email({ idempotencyKey: 'slow-1' }), long());
      const second = providerFailure(narrow.send(email({ idempotencyKey: 'slow-2' }), AbortSignal.timeout(50)));
      expect((await second).kind).toBe('timeout');
      await first;
      await new Promise((resolve) => setTimeout(resolve, 400));
      const ids = (await sink.messages({ raw: false })).map((m) => m.messageId);
      expect(ids).toEqual([messageIdFor('slow-1', FROM)]);
      // An already aborted signal never reaches the pool either.
      const aborted = AbortSignal.abort();
      expect((await providerFailure(narrow.send(email(), aborted))).kind).toBe('timeout');
    } finally {
      await narrow.close();
    }
  });

  test('rate key: one bucket per SMTP server', () => {
    expect(provider.rateKey()).toBe(`smtp:127.0.0.1:${sink.port}`);
    const other = new SmtpProvider({
      name: 'x',
      url: 'smtps://u:p@mail.example:465',
      from: FROM,
      maxConnections: 1,
      timeoutMs: 1000,
    });
    expect(other.rateKey()).toBe('smtp:mail.example:465');
    expect(
      new SmtpProvider({ name: 'y', url: 'smtp://mail.example', from: FROM, maxConnections: 1, timeoutMs: 1 }).rateKey(),
    ).toBe('smtp:mail.example:587');
    expect((provider as Provider).lookup).toBeUndefined();
  });
});

describe('Message-ID', () => {
  test('derived from the idempotency key and the sender domain, stable and distinct', () => {
    const a = messageIdFor('inc|email|a@x|t|s', 'Keepwarm <status@Example.COM>');
    expect(a).toMatch(/^<[0-9a-f]{32}@example\.com>$/);
    expect(messageIdFor('inc|email|a@x|t|s', 'status@example.com')).toBe(a);
    expect(messageIdFor('inc|email|b@x|t|s', 'status@example.com')).not.toBe(a);
    expect(messageIdFor('k', 'no address')).toMatch(/@keepwarm\.invalid>$/);
  });
});

describe('SMTP error classification', () => {
  const reply = (responseCode: number, command: string, response = `${responseCode} x`) =>
    Object.assign(new Error('failed'), { code: 'EENVELOPE', responseCode, command, response });

  test.each([
    [reply(421, 'CONN'), 'transient'],
    [reply(450, 'RCPT TO'), 'transient'],
    [reply(452, 'RCPT TO'), 'transient'],
    [reply(552, 'RCPT TO'), 'transient'],
    [reply(550, 'RCPT TO'), 'recipient'],
    [reply(551, 'RCPT TO'), 'recipient'],
    [reply(553, 'RCPT TO'), 'recipient'],
    [reply(550, 'DATA', '550 5.1.1 <a@x>: user unknown'), 'recipient'],
    [reply(550, 'MAIL FROM', '550 5.7.1 sender rejected'), 'permanent'],
    [reply(554, 'DATA', '554 5.7.1 spam'), 'permanent'],
    [Object.assign(new Error('Invalid login'), { code: 'EAUTH', responseCode: 535, command: 'AUTH PLAIN' }), 'permanent'],
    [Object.assign(new Error('Invalid login'), { code: 'EAUTH' }), 'permanent'],
    [Object.assign(new Error('connect ECONNREFUSED'), { code: 'ESOCKET' }), 'connection'],
    [Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'EDNS' }), 'connection'],
    [Object.assign(new Error('Connection closed unexpectedly'), { code: 'ECONNECTION' }), 'connection'],
    [Object.assign(new Error('Greeting never received'), { code: 'ETIMEDOUT' }), 'timeout'],
    [Object.assign(new Error('Invalid recipient'), { code: 'EENVELOPE' }), 'recipient'],
    [new Error('Connection pool was closed'), 'connection'],
    [new Error('something else'), 'transient'],
  ])('%s → %s', (err, kind) => {
    expect(classifySmtpError(err).kind).toBe(kind);
  });
});
