import { Writable } from 'node:stream';
import { sql } from 'kysely';
import { beforeAll, expect, test } from 'vitest';
import { useTestContext } from '../../test/harness/context.js';
import { describeEachDialect } from '../../test/harness/databases.js';
import { main } from '../cli/main.js';
import { DAY } from '../core/clock.js';
import { newId } from '../core/ids.js';
import { toDbJson } from '../db/codec.js';
import type { Database, Dialect } from '../db/database.js';
import type { SubscribersTable } from '../status/subscribers/subscribers.repo.js';

const ADMIN = { type: 'user' as const, id: null, name: 'privacy test', role: 'admin' as const, ip: null };

interface Person {
  key: string;
  email: string;
  /** Typed with capitals where a sender kept them. */
  emailTyped: string;
  phone: string;
  /** As a buyer typed it on the order form. */
  phoneTyped: string;
  surname: string;
}

const ANA: Person = {
  key: 'ana',
  email: 'ana.zabriskie@example.com',
  emailTyped: 'Ana.Zabriskie@Example.com',
  phone: '+14155550101',
  phoneTyped: '+1 (415) 555-0101',
  surname: 'Zabriskie',
};
const BOB: Person = {
  key: 'bob',
  email: 'bob.quillfeather@example.com',
  emailTyped: 'bob.quillfeather@example.com',
  phone: '+442079460958',
  phoneTyped: '+44 20 7946 0958',
  surname: 'Quillfeather',
};

const bool = (dialect: Dialect, v: boolean) => (dialect === 'postgres' ? (v as unknown as number) : v ? 1 : 0);

/** Every text and JSON column of every table (found from the catalog, so new tables are included). */
async function textColumns(db: Database): Promise<Array<{ table: string; column: string }>> {
  if (db.dialect === 'postgres') {
    const rows = await sql<{ table_name: string; column_name: string }>`
      select table_name, column_name from information_schema.columns
      where table_schema = current_schema() and data_type in ('text', 'jsonb', 'json', 'character varying')
        and table_name not like 'kysely_%'`.execute(db.kysely);
    return rows.rows.map((r) => ({ table: r.table_name, column: r.column_name }));
  }
  const tables = await sql<{ name: string }>`
    select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like 'kysely_%'`.execute(
    db.kysely,
  );
  const out: Array<{ table: string; column: string }> = [];
  for (const t of tables.rows) {
    const cols = await sql<{ name: string; type: string }>`select name, type from pragma_table_info(${t.name})`.execute(
      db.kysely,
    );
    for (const c of cols.rows) if (c.type.toLowerCase() === 'text' || c.type === '') out.push({ table: t.name, column: c.name });
  }
  return out;
}

/** "table.column: n rows" for every column that still mentions one of the needles. */
async function mentions(db: Database, needles: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  for (const { table, column } of await textColumns(db)) {
    for (const needle of needles) {
      const cond =
        db.dialect === 'postgres'
          ? sql`strpos(lower(cast(${sql.ref(column)} as text)), ${needle.toLowerCase()}) > 0`
          : sql`instr(lower(${sql.ref(column)}), ${needle.toLowerCase()}) > 0`;
      const res = await sql<{ n: number }>`select count(*) as n from ${sql.table(table)} where ${cond}`.execute(db.kysely);
      const n = Number(res.rows[0]?.n ?? 0);
      if (n > 0) found.push(`${table}.${column} (${needle}): ${n}`);
    }
  }
  return found.sort();
}

const needlesOf = (p: Person) => [p.email, p.phone, p.phone.slice(2), p.phoneTyped, p.surname];

/** One person in every table that can hold personal data. */
async function seedPerson(db: Database, p: Person, at: number): Promise<{ leadId: string }> {
  const k = db.kysely;
  const leadId = `lead-${p.key}`;
  await k
    .insertInto('leads')
    .values({
      id: leadId,
      email: p.email,
      phone: p.phone,
      first_name: p.key,
      last_name: p.surname,
      company: 'Acme',
      lifecycle: 'sql',
      consent_email: 'granted',
      consent_sms: 'granted',
      attributes: toDbJson({ note: `${p.surname} prefers calls` }),
      fallback_sent: bool(db.dialect, false),
      created_at: at,
      updated_at: at,
    })
    .execute();
  const event = (id: string, fields: Record<string, unknown>) => ({
    id: `ev-${p.key}-${id}`,
    message_id: `msg-${p.key}-${id}`,
    type: 'product_viewed',
    properties: toDbJson({}),
    at,
    received_at: at,
    ...fields,
  });
  await k
    .insertInto('intent_events')
    .values([
      event('lead', { lead_id: leadId, email: p.email, product: 'Chiller X200' }),
      event('anon', { anonymous_id: `anon-${p.key}` }),
      event('identify', { anonymous_id: `anon-${p.key}`, email: p.email }),
      event('form', { type: 'form_submitted', anonymous_id: `other-${p.key}`, properties: toDbJson({ contact: p.emailTyped }) }),
    ])
    .execute();
  await k
    .insertInto('tasks')
    .values({
      id: `task-${p.key}`,
      lead_id: leadId,
      kind: 'call_now',
      title: `Call ${p.key} ${p.surname}`,
      script: `Dial ${p.phone}`,
      due_at: at,
      state: 'open',
      created_at: at,
      updated_at: at,
    })
    .execute();
  await k
    .insertInto('enrollments')
    .values({
      id: `enr-${p.key}`,
      incident_id: 'inc-1',
      lead_id: leadId,
      sequence: 'tier_b',
      step: 1,
      state: 'active',
      created_at: at,
      updated_at: at,
    })
    .execute();
  await k
    .insertInto('conversations')
    .values({
      id: `conv-${p.key}`,
      channel: 'sms',
      address: p.phone,
      lead_id: leadId,
      state: 'menu',
      turns: 2,
      created_at: at,
      updated_at: at,
    })
    .execute();
  await k
    .insertInto('inbound_messages')
    .values({
      id: `in-${p.key}`,
      channel: 'sms',
      provider_message_id: `SM-${p.key}`,
      from_address: p.phone,
      to_address: '+15005550006',
      body: `write to me at ${p.email}`,
      kind: 'conversation',
      received_at: at,
      params: toDbJson({ From: p.phone, Body: `write to me at ${p.email}` }),
      handled_at: at,
      outcome: 'menu',
    })
    .execute();
  const message = (id: string, fields: Record<string, unknown>) => ({
    id: `m-${p.key}-${id}`,
    idempotency_key: `-|email|${p.email}|email.update|${id}`,
    channel: 'email',
    purpose: 'transactional',
    template_key: 'email.update',
    recipient: p.emailTyped,
    recipient_name: `${p.key} ${p.surname}`,
    recipient_ref: `lead:${leadId}`,
    drill: bool(db.dialect, false),
    subject: `For ${p.surname}`,
    body_text: `Hello ${p.key} ${p.surname}`,
    body_html: `<p>Hello ${p.surname}</p>`,
    status: 'delivered',
    provider: 'smtp',
    attempts: 1,
    metadata: toDbJson({ step: id, unsubscribe_url: `https://status.example.test/u/${p.email}` }),
    created_at: at,
    updated_at: at,
    sent_at: at,
    delivered_at: at,
    ...fields,
  });
  await k
    .insertInto('messages')
    .values([
      message('sent', {}),
      message('bounced', { status: 'bounced', status_reason: `550 5.1.1 <${p.email}>: no such user` }),
      message('queued', {
        channel: 'sms',
        recipient: p.phone,
        idempotency_key: `-|sms|${p.phone}|sms.update|1`,
        subject: null,
        body_html: null,
        status: 'queued',
        sent_at: null,
        delivered_at: null,
      }),
    ])
    .execute();
  await k
    .insertInto('message_attempts')
    .values({
      id: `att-${p.key}`,
      message_id: `m-${p.key}-bounced`,
      at,
      provider: 'smtp',
      outcome: 'bounced',
      code: '550',
      detail: `RCPT TO:<${p.emailTyped}> rejected`,
      duration_ms: 12,
    })
    .execute();
  for (const [channel, address] of [
    ['email', p.email],
    ['sms', p.phone],
  ] as const) {
    await k
      .withTables<{ subscribers: SubscribersTable }>()
      .insertInto('subscribers')
      .values({
        id: `sub-${p.key}-${channel}`,
        channel,
        address,
        components: toDbJson('all'),
        state: 'active',
        attempts: 0,
        created_at: at,
        updated_at: at,
        confirmed_at: at,
      })
      .execute();
  }
  await k
    .insertInto('orders')
    .values({
      id: `order-${p.key}`,
      reference: `KW-${p.key.toUpperCase()}-0001`,
      created_at: at,
      updated_at: at,
      company: 'Acme',
      contact_name: `${p.key} ${p.surname}`,
      email: p.email,
      phone: p.phoneTyped,
      lines: toDbJson([{ sku: 'CH-100', name: 'Chair', quantity: 12, known: true }]),
      notes: `Ask for ${p.surname}`,
      source: 'https://mirror.example.test/catalog',
      unknown_skus: 0,
      state: 'received',
      ip_hash: `iphash-${p.key}`,
    })
    .execute();
  await k
    .insertInto('suppressions')
    .values({ channel: 'email', address: p.email, reason: 'unsubscribed', source: 'link', created_at: at })
    .execute();
  await k
    .insertInto('jobs')
    .values({
      id: `job-${p.key}`,
      kind: 'messaging.deliver',
      payload: toDbJson({ messageId: `m-${p.key}-bounced` }),
      idempotency_key: `messaging.deliver:m-${p.key}-bounced`,
      state: 'dead',
      run_at: at,
      attempts: 1,
      max_attempts: 10,
      last_error: `recipient ${p.email} refused`,
      created_at: at,
      updated_at: at,
      finished_at: at,
    })
    .execute();
  return { leadId };
}

function capture() {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, done) {
      text += String(chunk);
      done();
    },
  });
  return { stream, text: () => text };
}

const cliIo = (out: ReturnType<typeof capture>, err: ReturnType<typeof capture>) =>
  ({ stdout: out.stream, stderr: err.stream }) as unknown as Parameters<typeof main>[1];

describeEachDialect('privacy: export and erasure', (dialect) => {
  const ctx = useTestContext(dialect);

  beforeAll(async () => {
    const c = ctx();
    await seedPerson(c.db, ANA, c.clock.now() - DAY);
    await seedPerson(c.db, BOB, c.clock.now() - DAY);
  });

  test('the export holds every table’s rows about the person, and nobody else’s', async () => {
    const c = ctx();
    const res = await c.call('POST', '/api/v1/privacy/export', {
      token: await c.token('admin'),
      body: { subject: ` ${ANA.emailTyped} ` },
    });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.subject).toEqual({ kind: 'email', value: ANA.email });
    expect(doc.addresses).toEqual({ emails: [ANA.email], phones: [ANA.phone] });
    expect(doc.counts).toEqual({
      leads: 1,
      intent_events: 4,
      tasks: 1,
      enrollments: 1,
      conversations: 1,
      inbound_messages: 1,
      subscribers: 2,
      messages: 3,
      message_attempts: 1,
      orders: 1,
      suppressions: 1,
      users: 0,
      owner_profiles: 0,
    });
    expect(doc.tables.leads[0]).toMatchObject({
      email: ANA.email,
      last_name: ANA.surname,
      attributes: { note: `${ANA.surname} prefers calls` },
    });
    expect(doc.tables.orders[0]).toMatchObject({ phone: ANA.phoneTyped, lines: [{ sku: 'CH-100', quantity: 12 }] });
    expect(doc.tables.messages.map((m: { id: string }) => m.id).sort()).toEqual(['m-ana-bounced', 'm-ana-queued', 'm-ana-sent']);
    expect(doc.tables.messages[0].created_at).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(JSON.stringify(doc)).not.toContain('secret_hash');
    const text = JSON.stringify(doc).toLowerCase();
    for (const needle of needlesOf(BOB)) expect(text).not.toContain(needle.toLowerCase());
    // Audited with a hash, never the address.
    const [audit] = await c.db.kysely.selectFrom('audit_log').selectAll().where('action', '=', 'privacy.export').execute();
    expect(audit?.target_id).toBe(await c.services.privacy.hashOf(ANA.email));
    expect(audit?.details.toLowerCase()).not.toContain('zabriskie');
  });

  test('only admins: other roles are refused, and a bad address is named', async () => {
    const c = ctx();
    const marketing = await c.token('marketing');
    for (const url of ['/api/v1/privacy/export', '/api/v1/privacy/erase', '/api/v1/privacy/preview']) {
      const res = await c.call('POST', url, { token: marketing, body: { subject: ANA.email } });
      expect(res.statusCode).toBe(403);
    }
    const bad = await c.call('POST', '/api/v1/privacy/erase', { token: await c.token('admin'), body: { subject: '555-0101' } });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().error.message).toMatch(/^subject: /);
    const worse = await c.call('POST', '/api/v1/privacy/erase', { token: await c.token('admin'), body: { subject: 'ana@' } });
    expect(worse.statusCode).toBe(422);
    expect(worse.json().error.details).toEqual({ field: 'subject' });
  });

  test('erasure by phone leaves nothing naming the person in any column of any table but the suppression list; others untouched', async () => {
    const c = ctx();
    const bobBefore = await c.services.privacy.exportPerson(ADMIN, BOB.email);
    const before = await mentions(c.db, needlesOf(ANA));
    expect(before.length).toBeGreaterThan(10);

    const res = await c.call('POST', '/api/v1/privacy/erase', {
      token: await c.token('admin'),
      body: { subject: ANA.phoneTyped },
    });
    expect(res.statusCode).toBe(200);
    const out = res.json();
    expect(out.kind).toBe('phone');
    expect(out.addresses).toBe(2);
    expect(out.suppressed).toBe(1); // the phone; the email was suppressed already
    expect(out.tables).toMatchObject({
      leads: { action: 'deleted', rows: 1 },
      intent_events: { action: 'deleted', rows: 4 },
      tasks: { action: 'deleted', rows: 1 },
      enrollments: { action: 'deleted', rows: 1 },
      conversations: { action: 'deleted', rows: 1 },
      inbound_messages: { action: 'deleted', rows: 1 },
      subscribers: { action: 'deleted', rows: 2 },
      messages: { action: 'redacted', rows: 3 },
      message_attempts: { action: 'redacted', rows: 1 },
      orders: { action: 'redacted', rows: 1 },
      jobs: { action: 'redacted', rows: 1 },
    });

    // Only the suppression list names them now: that is what keeps them from being messaged again.
    const left = await mentions(c.db, needlesOf(ANA));
    expect(left.every((l) => l.startsWith('suppressions.address'))).toBe(true);
    const suppressed = await c.db.kysely
      .selectFrom('suppressions')
      .selectAll()
      .where('address', 'in', [ANA.email, ANA.phone])
      .execute();
    expect(suppressed.map((s) => [s.channel, s.address, s.reason]).sort()).toEqual([
      ['email', ANA.email, 'unsubscribed'],
      ['sms', ANA.phone, 'erased'],
    ]);

    // Delivery facts stay for reporting; the unsent one is cancelled.
    const messages = await c.db.kysely.selectFrom('messages').selectAll().where('id', 'like', 'm-ana-%').orderBy('id').execute();
    expect(messages.map((m) => [m.id, m.status, m.channel, m.recipient, m.body_text])).toEqual([
      ['m-ana-bounced', 'bounced', 'email', '[erased]', ''],
      ['m-ana-queued', 'suppressed', 'sms', '[erased]', ''],
      ['m-ana-sent', 'delivered', 'email', '[erased]', ''],
    ]);
    expect(messages[0]?.status_reason).toBe('550 5.1.1 <[erased]>: no such user');
    expect(messages.map((m) => m.redacted_at)).toEqual([c.clock.now(), c.clock.now(), c.clock.now()]);
    const order = await c.db.kysely.selectFrom('orders').selectAll().where('id', '=', 'order-ana').executeTakeFirstOrThrow();
    expect([order.company, order.reference, order.email, order.phone]).toEqual(['Acme', 'KW-ANA-0001', '[erased]', null]);

    // The audit entry: counts and a hash, no personal data.
    const hash = await c.services.privacy.hashOf(ANA.email);
    const phoneHash = await c.services.privacy.hashOf(ANA.phone);
    const [audit] = await c.db.kysely.selectFrom('audit_log').selectAll().where('action', '=', 'privacy.erase').execute();
    expect(audit?.target_id).toBe(phoneHash);
    expect(phoneHash).not.toBe(hash);
    expect(JSON.parse(audit?.details ?? '{}')).toMatchObject({ kind: 'phone', addresses: 2, rows: { leads: 1, messages: 3 } });

    // Bob is exactly as he was.
    const bobAfter = await c.services.privacy.exportPerson(ADMIN, BOB.email);
    expect({ ...bobAfter, generated_at: '' }).toEqual({ ...bobBefore, generated_at: '' });
  });

  test('erasing again finds nothing more (idempotent)', async () => {
    const c = ctx();
    const again = await c.services.privacy.erase(ADMIN, ANA.email);
    const rows = Object.entries(again.tables).filter(([, v]) => v.rows > 0);
    expect(rows).toEqual([]);
    expect(again.suppressed).toBe(0);
  });

  test('without suppression nothing at all is left, and the CLI says what it did', async () => {
    const c = ctx();
    const out = capture();
    const err = capture();
    const code = await main(
      ['privacy', 'erase', BOB.email, '--no-suppress', '--database-url', c.scratch.url, '--data-dir', c.scratch.dir],
      cliIo(out, err),
    );
    expect(err.text()).toBe('');
    expect(code).toBe(0);
    expect(out.text()).toContain('erased email (2 addresses)');
    expect(out.text()).toContain('leads: 1 deleted');
    expect(out.text()).toContain('suppressions: 1 deleted');
    expect(await mentions(c.db, needlesOf(BOB))).toEqual([]);

    const bad = capture();
    const badCode = await main(
      ['privacy', 'export', 'not-a-phone', '--database-url', c.scratch.url, '--data-dir', c.scratch.dir],
      cliIo(capture(), bad),
    );
    expect(badCode).toBe(2);
    expect(bad.text()).toContain('subject: ');
  });

  test('a lead’s shared switchboard number is not taken as the person’s', async () => {
    const c = ctx();
    const now = c.clock.now();
    const lead = (id: string, email: string) => ({
      id,
      email,
      phone: '+14155550150',
      lifecycle: 'lead',
      consent_email: 'granted',
      consent_sms: 'granted',
      attributes: toDbJson({}),
      fallback_sent: bool(dialect, false),
      created_at: now,
      updated_at: now,
    });
    await c.db.kysely
      .insertInto('leads')
      .values([lead('lead-erin', 'erin@example.com'), lead('lead-frank', 'frank@example.com')])
      .execute();
    await c.db.kysely
      .insertInto('inbound_messages')
      .values({
        id: newId(now),
        channel: 'sms',
        provider_message_id: 'SM-switchboard',
        from_address: '+14155550150',
        to_address: '+15005550006',
        body: 'hello',
        kind: 'conversation',
        received_at: now,
        params: toDbJson({}),
        handled_at: now,
      })
      .execute();
    const res = await c.services.privacy.erase(ADMIN, 'erin@example.com');
    expect(res.addresses).toBe(1);
    expect(res.tables.leads.rows).toBe(1);
    expect(res.tables.inbound_messages.rows).toBe(0);
    const frank = await c.db.kysely.selectFrom('leads').selectAll().where('id', '=', 'lead-frank').executeTakeFirstOrThrow();
    expect(frank.phone).toBe('+14155550150');
  });
});

describeEachDialect('privacy: retention purge', (dialect) => {
  const ctx = useTestContext(dialect);

  async function seedAges() {
    const c = ctx();
    const now = c.clock.now();
    const k = c.db.kysely;
    const ago = (days: number) => now - days * DAY;
    const message = (id: string, days: number, status: string) => ({
      id,
      idempotency_key: `k-${id}`,
      channel: 'email',
      purpose: 'transactional',
      recipient: `${id}@example.com`,
      recipient_name: 'Someone',
      recipient_ref: `lead:${id}`,
      drill: bool(dialect, false),
      subject: 'Subject',
      body_text: 'Body',
      body_html: '<p>Body</p>',
      status,
      status_reason: status === 'bounced' ? `<${id}@example.com> unknown` : null,
      provider: 'smtp',
      attempts: 1,
      metadata: toDbJson({ step: 'x' }),
      created_at: ago(days),
      updated_at: ago(days),
      sent_at: status === 'queued' ? null : ago(days),
      delivered_at: status === 'delivered' ? ago(days) : null,
    });
    await k
      .insertInto('messages')
      .values([
        message('old1', 91, 'delivered'),
        message('old2', 120, 'bounced'),
        message('oldqueued', 120, 'queued'),
        message('young', 89, 'delivered'),
      ])
      .execute();
    await k
      .insertInto('message_attempts')
      .values({
        id: 'a1',
        message_id: 'old2',
        at: ago(120),
        provider: 'smtp',
        outcome: 'bounced',
        code: '550',
        detail: 'RCPT <old2@example.com> refused',
        duration_ms: 5,
      })
      .execute();
    const signal = (id: string, state: string, resolvedDays: number | null, source = 'beacon') => ({
      id,
      source,
      fingerprint: `${source}:${id}`,
      state,
      severity: 'down',
      summary: 'beacons',
      first_at: ago(60),
      last_at: ago(40),
      resolved_at: resolvedDays === null ? null : ago(resolvedDays),
      details: toDbJson({ samples: ['load https://cdn.example.test/app.js'] }),
    });
    await k
      .insertInto('signals')
      .values([
        signal('b-old', 'resolved', 31),
        signal('b-young', 'resolved', 29),
        signal('b-firing', 'firing', null),
        signal('alert-old', 'resolved', 200, 'alertmanager'),
      ])
      .execute();
    const events = [181, 200, 250, 300, 400, 179].map((d, i) => ({
      id: `e${i}-${d}`,
      message_id: `em${i}`,
      type: 'product_viewed',
      anonymous_id: `anon${i}`,
      properties: toDbJson({}),
      at: ago(d),
      received_at: ago(d),
    }));
    await k.insertInto('intent_events').values(events).execute();
    await k
      .insertInto('conversations')
      .values([
        {
          id: 'c-old',
          channel: 'sms',
          address: '+14155550111',
          state: 'menu',
          turns: 1,
          created_at: ago(100),
          updated_at: ago(91),
        },
        {
          id: 'c-young',
          channel: 'sms',
          address: '+14155550112',
          state: 'menu',
          turns: 1,
          created_at: ago(100),
          updated_at: ago(89),
        },
      ])
      .execute();
    const inbound = (id: string, days: number, handled: boolean) => ({
      id,
      channel: 'sms',
      provider_message_id: `SM${id}`,
      from_address: '+14155550111',
      to_address: '+15005550006',
      body: 'STOP',
      kind: 'stop',
      received_at: ago(days),
      params: toDbJson({}),
      handled_at: handled ? ago(days) : null,
    });
    await k
      .insertInto('inbound_messages')
      .values([inbound('i-old', 91, true), inbound('i-unhandled', 91, false), inbound('i-young', 89, true)])
      .execute();
  }

  beforeAll(async () => {
    await seedAges();
  });

  test('the defaults come from the configuration; bad values are refused by field and nothing is saved', async () => {
    const c = ctx();
    const admin = await c.token('admin');
    const res = await c.call('GET', '/api/v1/privacy/retention', { token: admin });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      retention: { messageBodiesDays: 90, beaconsDays: 30, eventsDays: 180, conversationsDays: 90 },
      source: 'config',
      last_purge: null,
    });
    const bad = await c.call('PUT', '/api/v1/privacy/retention', {
      token: admin,
      body: { messageBodiesDays: 30, eventsDays: -1, beaconsDays: 2.5 },
    });
    expect(bad.statusCode).toBe(400);
    const fields = bad
      .json()
      .error.details.map((d: { field: string }) => d.field)
      .sort();
    expect(fields).toEqual(['beaconsDays', 'eventsDays']);
    expect((await c.services.privacy.retention()).source).toBe('config');
    const commander = await c.call('PUT', '/api/v1/privacy/retention', {
      token: await c.token('commander'),
      body: { eventsDays: 1 },
    });
    expect(commander.statusCode).toBe(403);
  });

  test('the purge removes exactly what is past retention, keeps delivery facts, and a second run removes nothing', async () => {
    const c = ctx();
    const res = await c.call('POST', '/api/v1/privacy/purge', { token: await c.token('admin') });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      messages_redacted: 2,
      beacon_signals_deleted: 1,
      intent_events_deleted: 5,
      conversations_deleted: 1,
      inbound_messages_deleted: 1,
      complete: true,
    });
    const k = c.db.kysely;
    const messages = await k.selectFrom('messages').selectAll().orderBy('id').execute();
    expect(messages.map((m) => [m.id, m.recipient, m.body_text, m.status])).toEqual([
      ['old1', '[redacted]', '', 'delivered'],
      ['old2', '[redacted]', '', 'bounced'],
      ['oldqueued', 'oldqueued@example.com', 'Body', 'queued'],
      ['young', 'young@example.com', 'Body', 'delivered'],
    ]);
    const old2 = messages[1];
    expect([old2?.status_reason, old2?.recipient_name, old2?.subject, old2?.body_html, old2?.recipient_ref]).toEqual([
      '<[redacted]> unknown',
      null,
      null,
      null,
      'lead:old2',
    ]);
    expect(old2?.sent_at).not.toBeNull();
    const attempt = await k.selectFrom('message_attempts').selectAll().executeTakeFirstOrThrow();
    expect([attempt.outcome, attempt.code, attempt.detail]).toEqual(['bounced', '550', 'RCPT <[redacted]> refused']);
    expect((await k.selectFrom('signals').select('id').orderBy('id').execute()).map((s) => s.id)).toEqual([
      'alert-old',
      'b-firing',
      'b-young',
    ]);
    expect((await k.selectFrom('intent_events').select('id').execute()).map((e) => e.id)).toEqual(['e5-179']);
    expect((await k.selectFrom('conversations').select('id').execute()).map((e) => e.id)).toEqual(['c-young']);
    expect((await k.selectFrom('inbound_messages').select('id').orderBy('id').execute()).map((e) => e.id)).toEqual([
      'i-unhandled',
      'i-young',
    ]);

    const again = await c.services.privacy.purge();
    expect([
      again.messagesRedacted,
      again.beaconSignalsDeleted,
      again.intentEventsDeleted,
      again.conversationsDeleted,
      again.inboundMessagesDeleted,
    ]).toEqual([0, 0, 0, 0, 0]);
    const audit = await k.selectFrom('audit_log').select('action').where('action', '=', 'privacy.purge').execute();
    expect(audit).toHaveLength(1);
  });

  test('saved settings take over; 0 keeps; a large purge goes in small batches', async () => {
    const c = ctx();
    const admin = await c.token('admin');
    const put = await c.call('PUT', '/api/v1/privacy/retention', {
      token: admin,
      body: { eventsDays: 10, conversationsDays: 0 },
    });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({
      source: 'console',
      retention: { messageBodiesDays: 90, beaconsDays: 30, eventsDays: 10, conversationsDays: null },
    });
    const now = c.clock.now();
    await c.db.kysely
      .insertInto('intent_events')
      .values(
        Array.from({ length: 7 }, (_, i) => ({
          id: `batch-${i}`,
          message_id: `batch-m-${i}`,
          type: 'product_viewed',
          anonymous_id: 'x',
          properties: toDbJson({}),
          at: now - 11 * DAY - i,
          received_at: now,
        })),
      )
      .execute();
    c.clock.advance(100 * DAY);
    const res = await c.services.privacy.purge({ batchSize: 3 });
    // 7 new + the 179-day one; conversations are kept (0).
    expect(res.intentEventsDeleted).toBe(8);
    expect(res.conversationsDeleted).toBe(0);
    expect(res.inboundMessagesDeleted).toBe(0);
    expect(res.messagesRedacted).toBe(1);
    const reset = await c.call('DELETE', '/api/v1/privacy/retention', { token: admin });
    expect(reset.json()).toMatchObject({ source: 'config', retention: { eventsDays: 180 } });
  });

  test('the hourly job is scheduled and runs the purge', async () => {
    const c = ctx();
    const { scheduleRecurringJobs } = await import('../app/jobs.js');
    await scheduleRecurringJobs(c.services);
    const job = await c.db.kysely.selectFrom('jobs').selectAll().where('kind', '=', 'privacy.purge').executeTakeFirstOrThrow();
    expect(job.state).toBe('queued');
    c.clock.set(job.run_at);
    await c.worker.pump();
    const last = await c.services.privacy.lastPurge();
    expect(last?.ranAt).toBe(job.run_at);
    const next = await c.db.kysely
      .selectFrom('jobs')
      .select('run_at')
      .where('kind', '=', 'privacy.purge')
      .where('state', '=', 'queued')
      .execute();
    expect(next.map((j) => j.run_at)).toEqual([job.run_at + 60 * 60_000]);
  });
});
