import { afterAll, beforeAll, beforeEach, expect, test } from 'vitest';
import { createTestContext, type TestContext } from '../../test/harness/context.js';
import { describeEachDialect } from '../../test/harness/databases.js';
import { type SmtpSink, startSmtpSink } from '../../test/harness/smtp-sink.js';
import { SAMPLE_VARIABLES, seedDefaultTemplates } from './default-templates.js';
import { listAttempts, listMessages } from './messages.repo.js';

const FROM = 'Northwind Status <status@northwind.example>';

describeEachDialect('email provider failover through the outbox', (dialect) => {
  let c: TestContext;
  let primary: SmtpSink;
  let secondary: SmtpSink;
  let step = 0;

  beforeAll(async () => {
    [primary, secondary] = await Promise.all([startSmtpSink(), startSmtpSink()]);
    c = await createTestContext(dialect, {
      config: { 'smtp.url': primary.url, 'smtp.fallbackUrl': secondary.url, 'smtp.timeoutSeconds': 2, 'messaging.from': FROM },
    });
    await seedDefaultTemplates(c.db, c.clock, { approve: true });
  }, 60_000);

  afterAll(async () => {
    await Promise.all([primary?.stop(), secondary?.stop()]);
    await c?.close();
  });

  beforeEach(async () => {
    await Promise.all([primary.reset(), secondary.reset()]);
  });

  async function send(count: number, prefix: string) {
    step++;
    const recipients = Array.from({ length: count }, (_, i) => ({
      address: `${prefix}${i}@buyers.example`,
      variables: { first_name: `B${i}` },
    }));
    await c.db.tx((trx) =>
      c.services.outbox.dispatch(trx, {
        templateKey: 'email.initial_ack',
        recipients,
        variables: SAMPLE_VARIABLES,
        incidentId: 'failover',
        step: `s${step}`,
      }),
    );
    await c.worker.pump();
    return listMessages(c.db.kysely, { incidentId: 'failover', limit: 1000 }).then((all) =>
      all.filter((m) => m.recipient.startsWith(prefix)),
    );
  }

  test('primary SMTP down: every message arrives through the secondary, none twice', async () => {
    await primary.down();
    const messages = await send(40, 'down');
    expect(messages.map((m) => [m.status, m.provider])).toEqual(messages.map(() => ['sent', 'smtp:fallback']));
    const stats = await secondary.stats();
    expect([stats.accepted, stats.uniqueMessageIds]).toEqual([40, 40]);
    expect((await primary.stats()).accepted).toBe(0);
    const attempts = await listAttempts(c.db.kysely, messages[0]?.id ?? '');
    expect(attempts.map((a) => [a.provider, a.outcome])).toEqual([
      ['smtp:primary', 'connection'],
      ['smtp:fallback', 'sent'],
    ]);
    await primary.up();
  });

  test('a temporary refusal (421) fails over; a recipient refusal (550) never does', async () => {
    await primary.fail({ code: 421, stage: 'MAIL', times: null });
    await primary.rejectRecipient('refused0@buyers.example', 550);
    const temporary = await send(5, 'temp');
    expect(temporary.every((m) => m.status === 'sent' && m.provider === 'smtp:fallback')).toBe(true);
    await primary.clearFaults();

    await primary.rejectRecipient('refused0@buyers.example', 550);
    const [refused] = await send(1, 'refused');
    expect(refused).toMatchObject({ status: 'failed', provider: null });
    expect(refused?.statusReason).toMatch(/550/);
    expect((await secondary.messages({ raw: false })).some((m) => m.rcptTo.includes('refused0@buyers.example'))).toBe(false);
  });

  test('both servers failing: the message waits and retries with backoff, then arrives once', async () => {
    await primary.fail({ code: 451, stage: 'RCPT', times: null });
    await secondary.fail({ code: 451, stage: 'RCPT', times: null });
    const [first] = await send(1, 'retry');
    expect(first).toMatchObject({ status: 'queued', attempts: 1 });
    expect(first?.statusReason).toMatch(/451/);
    await Promise.all([primary.clearFaults(), secondary.clearFaults()]);
    expect(await c.worker.pump()).toBe(0); // not due yet: backoff
    c.clock.advance(60_000);
    await c.worker.pump();
    const [after] = (await listMessages(c.db.kysely, { incidentId: 'failover', limit: 1000 })).filter((m) =>
      m.recipient.startsWith('retry'),
    );
    expect(after).toMatchObject({ status: 'sent', provider: 'smtp:primary', attempts: 2 });
    expect((await primary.stats()).accepted + (await secondary.stats()).accepted).toBe(1);
  });
});
