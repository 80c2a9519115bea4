import nodemailer from 'nodemailer';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import type { OutboundMessage } from '../../src/messaging/providers/provider.js';
import { SmtpProvider } from '../../src/messaging/providers/smtp.js';
import { type SmtpSink, startSmtpSink } from './smtp-sink.js';

const FROM = 'Keepwarm <status@sink.example>';

function message(i: number, key = `key-${i}`): OutboundMessage {
  return {
    id: `m${i}`,
    idempotencyKey: key,
    channel: 'email',
    to: `lead${i}@buyer.example`,
    subject: `Update ${i}`,
    text: `Message ${i}: the showroom is down, the mirror is up.`,
    html: `<p>Message ${i}</p>`,
    purpose: 'transactional',
    metadata: {},
  };
}

describe('SMTP sink', () => {
  let sink: SmtpSink;
  let provider: SmtpProvider;

  beforeAll(async () => {
    sink = await startSmtpSink();
    provider = new SmtpProvider({ name: 'smtp:test', url: sink.url, from: FROM, maxConnections: 4, timeoutMs: 2_000 });
  });

  afterAll(async () => {
    await provider?.close();
    await sink?.stop();
  });

  beforeEach(async () => {
    await sink.reset();
    await sink.setCountOnly(false);
  });

  test('records envelope, time, Message-ID and the raw source of every accepted message, in order', async () => {
    const before = Date.now();
    for (let i = 0; i < 3; i++) await provider.send(message(i), AbortSignal.timeout(5_000));
    const messages = await sink.messages();
    expect(messages.map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(messages.map((m) => m.rcptTo)).toEqual([['lead0@buyer.example'], ['lead1@buyer.example'], ['lead2@buyer.example']]);
    expect(messages[0]?.mailFrom).toBe('status@sink.example');
    expect(messages[0]?.receivedAt).toBeGreaterThanOrEqual(before);
    expect(messages[0]?.raw?.toString()).toContain('Subject: Update 0');
    expect(await sink.messages({ after: 1, limit: 1, raw: false })).toMatchObject([{ seq: 2 }]);
    const parsed = await sink.parsed({ after: 2 });
    expect(parsed).toHaveLength(1);
    expect(parsed[0]).toMatchObject({ seq: 3, subject: 'Update 2', to: ['lead2@buyer.example'], html: '<p>Message 2</p>' });
    expect(parsed[0]?.messageId).toBe(messages[2]?.messageId);
  });

  test('counts duplicates honestly: the same Message-ID twice is two accepted messages', async () => {
    await provider.send(message(1, 'same'), AbortSignal.timeout(5_000));
    await provider.send(message(2, 'same'), AbortSignal.timeout(5_000));
    await provider.send(message(3, 'other'), AbortSignal.timeout(5_000));
    expect(await sink.stats()).toMatchObject({ accepted: 3, uniqueMessageIds: 2, duplicates: 1 });
  });

  test('count-only mode keeps envelopes and Message-IDs, not sources, and takes hundreds of messages quickly', async () => {
    await sink.setCountOnly(true);
    const started = performance.now();
    let next = 0;
    const worker = async () => {
      while (next < 500) {
        const i = next++;
        await provider.send(message(i), AbortSignal.timeout(5_000));
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    const stats = await sink.waitForCount(500);
    const elapsed = performance.now() - started;
    expect(stats).toMatchObject({ accepted: 500, uniqueMessageIds: 500, duplicates: 0, countOnly: true });
    expect(elapsed).toBeLessThan(15_000);
    const messages = await sink.messages({ after: 490 });
    expect(messages).toHaveLength(10);
    expect(messages[0]?.raw).toBeUndefined();
    expect(messages[0]?.messageId).toMatch(/^<[0-9a-f]{32}@sink\.example>$/);
    await expect(sink.parsed({ after: 499 })).rejects.toThrow(/count-only/);
  });

  test('waitForCount resolves when the count is reached, and fails with the count so far', async () => {
    const waiting = sink.waitForCount(2, 5_000);
    await provider.send(message(1), AbortSignal.timeout(5_000));
    await provider.send(message(2), AbortSignal.timeout(5_000));
    expect((await waiting).accepted).toBe(2);
    await expect(sink.waitForCount(3, 100)).rejects.toThrow(/2 of 3 messages/);
  });

  test('faults apply to the next N transactions, then the server behaves again', async () => {
    await sink.fail({ code: 451, stage: 'DATA', times: 2 });
    const outcomes: string[] = [];
    for (let i = 0; i < 3; i++) {
      outcomes.push(
        await provider.send(message(i), AbortSignal.timeout(5_000)).then(
          () => 'sent',
          (e: { kind: string }) => e.kind,
        ),
      );
    }
    expect(outcomes).toEqual(['transient', 'transient', 'sent']);
    expect(await sink.stats()).toMatchObject({ accepted: 1, refused: 2, faults: [] });
  });

  test('a fault with times: null stays until cleared', async () => {
    await sink.fail({ code: 421, stage: 'MAIL', times: null });
    for (let i = 0; i < 2; i++)
      await expect(provider.send(message(i), AbortSignal.timeout(5_000))).rejects.toMatchObject({ kind: 'transient' });
    await sink.clearFaults();
    await provider.send(message(9), AbortSignal.timeout(5_000));
    expect((await sink.stats()).accepted).toBe(1);
  });

  test('down refuses connections on the same port; up listens there again', async () => {
    await sink.down();
    const client = nodemailer.createTransport({ host: '127.0.0.1', port: sink.port, connectionTimeout: 1_000 });
    await expect(client.sendMail({ from: 'a@x.example', to: 'b@x.example', text: 'x' })).rejects.toMatchObject({
      code: 'ESOCKET',
    });
    expect((await sink.stats()).down).toBe(true);
    await sink.up();
    await client.sendMail({ from: 'a@x.example', to: 'b@x.example', text: 'x' });
    expect((await sink.stats()).accepted).toBe(1);
    client.close();
  });

  test('latency slows every DATA answer', async () => {
    await sink.latency(150);
    const started = performance.now();
    await provider.send(message(1), AbortSignal.timeout(5_000));
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });
});
