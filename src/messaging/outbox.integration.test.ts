import { expect, test } from 'vitest';
import { type TestContext, useTestContext } from '../../test/harness/context.js';
import { describeEachDialect } from '../../test/harness/databases.js';
import { HOUR } from '../core/clock.js';
import { findMessageByKey, insertMessages, listAttempts, type NewMessage } from './messages.repo.js';
import { DELIVER_JOB, messageKey } from './outbox.service.js';
import { addSuppression } from './suppressions.repo.js';

/** Queue pre-rendered messages the way dispatch does (rendering is tested with the templates). */
async function queue(c: TestContext, messages: Array<Partial<NewMessage> & { recipient: string }>): Promise<void> {
  await c.db.tx(async (trx) => {
    const created = await insertMessages(
      trx,
      c.clock.now(),
      messages.map((m, i) => ({
        idempotencyKey: m.idempotencyKey ?? `test|${m.recipient}|${i}`,
        channel: 'email',
        purpose: 'transactional',
        drill: true,
        bodyText: 'Our product pages are slow; a read-only catalog is at https://fallback.example.test.',
        subject: 'Product pages: temporary interruption',
        ...m,
      })),
    );
    await c.services.jobs.enqueueMany(
      trx,
      [...created.values()].map((id) => ({ kind: DELIVER_JOB, payload: { messageId: id }, key: `${DELIVER_JOB}:${id}` })),
    );
  });
}

describeEachDialect('outbox delivery', (dialect) => {
  const ctx = useTestContext(dialect);

  test('a drill message goes to the sink only, and the attempt is recorded', async () => {
    const c = ctx();
    await queue(c, [{ recipient: 'buyer@example.test', idempotencyKey: 'drill-1' }]);
    await c.worker.pump();
    const message = await findMessageByKey(c.db.kysely, 'drill-1');
    expect(message).toMatchObject({ status: 'delivered', provider: 'sink:email', attempts: 1 });
    const attempts = await listAttempts(c.db.kysely, message?.id ?? '');
    expect(attempts.map((a) => [a.provider, a.outcome])).toEqual([['sink:email', 'sent']]);
  });

  test('without a provider for the channel a real message fails with the reason, it is not silently dropped', async () => {
    const c = ctx();
    await queue(c, [{ recipient: 'buyer2@example.test', idempotencyKey: 'no-provider', drill: false }]);
    await c.worker.pump();
    expect(await findMessageByKey(c.db.kysely, 'no-provider')).toMatchObject({
      status: 'failed',
      statusReason: 'no email provider is configured',
    });
  });

  test('opted-out recipients, refused consent and marketing without consent are suppressed with the reason', async () => {
    const c = ctx();
    await c.db.tx((trx) =>
      addSuppression(trx, { channel: 'email', address: 'Gone@Example.test', reason: 'unsubscribe', at: c.clock.now() }),
    );
    await queue(c, [
      { recipient: 'gone@example.test', idempotencyKey: 's-optout' },
      { recipient: '+15005550006', channel: 'sms', idempotencyKey: 's-consent', metadata: { consent: { sms: false } } },
      { recipient: 'lead@example.test', purpose: 'marketing', idempotencyKey: 's-marketing' },
      { recipient: 'fan@example.test', purpose: 'marketing', idempotencyKey: 's-ok', metadata: { consent: { email: true } } },
    ]);
    await c.worker.pump();
    const status = async (key: string) => {
      const m = await findMessageByKey(c.db.kysely, key);
      return [m?.status, m?.statusReason];
    };
    expect(await status('s-optout')).toEqual(['suppressed', 'recipient opted out of email']);
    expect(await status('s-consent')).toEqual(['suppressed', 'no sms consent']);
    expect(await status('s-marketing')).toEqual(['suppressed', 'marketing email needs recorded consent']);
    expect(await status('s-ok')).toEqual(['delivered', null]);
  });

  test('marketing SMS outside 08:00–21:00 in the recipient zone waits for the morning, then goes', async () => {
    const c = ctx();
    c.clock.set(Date.parse('2026-03-10T10:00:00Z')); // 03:00 in Los Angeles
    await queue(c, [
      {
        recipient: '+14155550100',
        channel: 'sms',
        purpose: 'marketing',
        timezone: 'America/Los_Angeles',
        idempotencyKey: 'quiet',
        metadata: { consent: { sms: true } },
        subject: null,
        bodyText: 'Our showroom is limited right now. Reply 1 for specs, 2 to book time.',
      },
    ]);
    await c.worker.pump();
    expect(await findMessageByKey(c.db.kysely, 'quiet')).toMatchObject({
      status: 'queued',
      statusReason: 'deferred by quiet hours until 08:00 America/Los_Angeles',
      attempts: 0,
    });
    c.clock.advance(5 * HOUR - 1);
    expect(await c.worker.pump()).toBe(0);
    c.clock.advance(1);
    await c.worker.pump();
    expect(await findMessageByKey(c.db.kysely, 'quiet')).toMatchObject({
      status: 'delivered',
      sentAt: Date.parse('2026-03-10T15:00:00Z'),
    });
  });

  test('one message per idempotency key: queueing it again changes nothing, a delivered message is never sent again', async () => {
    const c = ctx();
    const key = messageKey({
      incidentId: 'inc-1',
      channel: 'email',
      address: 'Buyer@Example.test',
      templateKey: 'email.initial_ack',
      step: 'ack',
    });
    expect(key).toBe('inc-1|email|buyer@example.test|email.initial_ack|ack');
    await queue(c, [{ recipient: 'buyer@example.test', idempotencyKey: key }]);
    await queue(c, [{ recipient: 'buyer@example.test', idempotencyKey: key }]);
    expect(await c.worker.pump()).toBe(1);
    const message = await findMessageByKey(c.db.kysely, key);
    // A stray second delivery job for the same message finds it final and does nothing.
    await c.db.tx((trx) => c.services.jobs.enqueue(trx, { kind: DELIVER_JOB, payload: { messageId: message?.id } }));
    await c.worker.pump();
    expect(await listAttempts(c.db.kysely, message?.id ?? '')).toHaveLength(1);
  });
});
