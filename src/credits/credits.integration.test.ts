import { Writable } from 'node:stream';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createTestContext, TEST_ACTOR, type TestContext } from '../../test/harness/context.js';
import { describeEachDialect } from '../../test/harness/databases.js';
import { scheduleRecurringJobs } from '../app/jobs.js';
import { listAudit } from '../audit/audit.repo.js';
import { DEMO_COMPONENTS } from '../cli/demo.js';
import { main } from '../cli/main.js';
import { HOUR, MINUTE } from '../core/clock.js';
import { parseCsv } from '../crm/import/csv.js';
import { seedDemoCredits } from './credits.demo.js';
import { CLOSE_MONTH_JOB } from './credits.service.js';

const POLICY = {
  target_percent: 99.9,
  bands: [
    { below_percent: 99.9, credit_percent: 10 },
    { below_percent: 99, credit_percent: 25 },
    { below_percent: 95, credit_percent: 50 },
  ],
  cap_percent: 30,
  partial_outage_weight: 0.5,
  degraded_performance_weight: 0,
  approval_threshold_cents: 50_000,
  note: 'Agreed with legal in January',
};

const EVIL = '=HYPERLINK("http://evil.example","click")';

function capture() {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, done) {
      text += String(chunk);
      done();
    },
  });
  return { stream: stream as never, text: () => text };
}

describeEachDialect('SLA credits', (dialect) => {
  let c: TestContext;
  const t: Record<string, string> = {};
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    c = await createTestContext(dialect);
    c.clock.set(Date.UTC(2025, 2, 10, 9, 0));
    for (const role of ['admin', 'legal', 'sales', 'commander', 'viewer'] as const) t[role] = await c.token(role);
    for (const [name, kind] of [
      ['Showroom CDN', 'cdn'],
      ['Product API', 'api'],
      ['Sign-in', 'auth'],
    ] as const) {
      ids[name] = (await c.services.components.create(TEST_ACTOR, { name, kind })).id;
    }
  }, 60_000);

  afterAll(async () => {
    await c?.close();
  });

  const call = (method: string, url: string, role: string, body?: unknown) =>
    c.call(method, url, { token: t[role] as string, ...(body !== undefined && { body }) });
  const csvImport = (text: string, query = '') =>
    c.app.inject({
      method: 'POST',
      url: `/api/v1/credits/accounts/import${query}`,
      headers: { authorization: `Bearer ${t.admin}`, 'content-type': 'text/csv' },
      payload: text,
    });
  const ledger = async (month: string) =>
    (await call('GET', `/api/v1/credits?month=${month}`, 'admin')).json() as Array<{
      id: string;
      state: string;
      amount_cents: number;
      account: { external_id: string };
      availability_percent: number;
      downtime_minutes: number;
      above_threshold: boolean;
      incidents: Array<{ name: string }>;
    }>;
  const entry = async (month: string, externalId: string) => {
    const found = (await ledger(month)).find((e) => e.account.external_id === externalId);
    if (!found) throw new Error(`no credit for ${externalId}`);
    return found;
  };

  test('policies: an invalid one is refused with each field named; legal stores one; sales may not', async () => {
    const bad = await call('PUT', '/api/v1/credits/policies/enterprise', 'legal', {
      ...POLICY,
      cap_percent: 120,
      bands: [...POLICY.bands, { below_percent: 90, credit_percent: 40 }],
    });
    expect(bad.statusCode).toBe(422);
    expect(
      bad
        .json()
        .error.details.map((d: { field: string }) => d.field)
        .sort(),
    ).toEqual(['cap_percent']);
    const inverted = await call('PUT', '/api/v1/credits/policies/enterprise', 'legal', {
      ...POLICY,
      bands: [...POLICY.bands, { below_percent: 90, credit_percent: 40 }],
    });
    expect(inverted.statusCode).toBe(422);
    expect(inverted.json().error.details).toEqual([
      { field: 'bands[3].credit_percent', message: expect.stringMatching(/less than the 50/) },
    ]);
    expect((await call('PUT', '/api/v1/credits/policies/enterprise', 'sales', POLICY)).statusCode).toBe(403);

    const ok = await call('PUT', '/api/v1/credits/policies/enterprise', 'legal', POLICY);
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ plan: 'enterprise', cap_percent: 30, bands: POLICY.bands });
    expect((await call('GET', '/api/v1/credits/policies', 'sales')).json()).toHaveLength(1);
  });

  test('accounts CSV: a bad file imports nothing and names rows and columns; a good one creates CRM accounts with plans', async () => {
    const bad = await csvImport(
      'external_id,name,plan,monthly_fee,components\nNW-1,Northwind,enterprise,12000,Showroom CDN\nCT-2,Contoso,gold,2000.001,Payments\n',
    );
    expect(bad.statusCode).toBe(422);
    expect(bad.json()).toMatchObject({ applied: false, errors: 3 });
    expect(bad.json().error_list.map((e: { row: number; column: string }) => `${e.row}:${e.column}`)).toEqual([
      '3:plan',
      '3:monthly_fee',
      '3:components',
    ]);
    expect((await call('GET', '/api/v1/credits/accounts', 'admin')).json()).toEqual([]);

    const file = [
      'external_id,name,plan,monthly_fee,currency,components,regions',
      'NW-1,Northwind Fixtures,enterprise,"12,000.00",USD,Showroom CDN,',
      `CT-2,"${EVIL.replaceAll('"', '""')}",enterprise,2000,USD,Product API,`,
      'FB-3,Fabrikam,enterprise,5000,USD,,us-east',
      'ZZ-4,Quiet Corp,enterprise,900,USD,Sign-in,',
    ].join('\n');
    const dry = await csvImport(file, '?dry_run=true');
    expect(dry.json()).toMatchObject({ dry_run: true, applied: false, created: 4 });
    const good = await csvImport(file);
    expect(good.statusCode).toBe(200);
    expect(good.json()).toMatchObject({ applied: true, created: 4, updated: 0 });
    expect((await csvImport(file)).json()).toMatchObject({ applied: false, created: 0, updated: 0, unchanged: 4 });
    const accounts = (await call('GET', '/api/v1/credits/accounts', 'sales')).json();
    expect(accounts).toHaveLength(4);
    expect(accounts.find((a: { external_id: string }) => a.external_id === 'NW-1')).toMatchObject({
      monthly_fee_cents: 1_200_000,
      components: [ids['Showroom CDN']],
      regions: [],
    });
    expect(await c.db.kysely.selectFrom('accounts').select('id').execute()).toHaveLength(4);
  });

  test('March: credits computed from the incident timelines, once, however often it runs', async () => {
    const { incidents, clock } = c.services;
    // CDN: major from 08:40 (detection saw it before the 09:00 declaration), partial from 10:00, resolved 12:00.
    const cdn = await incidents.declare(TEST_ACTOR, {
      name: 'CDN outage',
      message: 'Product pages fail to load.',
      components: [{ id: ids['Showroom CDN'] as string, status: 'major_outage' }],
      started_at: clock.now() - 20 * MINUTE,
    });
    c.clock.advance(HOUR);
    await incidents.postUpdate(TEST_ACTOR, cdn.incident.id, {
      message: 'Recovering.',
      components: [{ id: ids['Showroom CDN'] as string, status: 'partial_outage' }],
    });
    c.clock.advance(2 * HOUR);
    await incidents.postUpdate(TEST_ACTOR, cdn.incident.id, { status: 'resolved', message: 'Resolved.' });
    // API: an hour down in eu-west only (Fabrikam is in us-east).
    c.clock.set(Date.UTC(2025, 2, 20, 14, 0));
    const api = await incidents.declare(TEST_ACTOR, {
      name: 'API errors in Europe',
      message: 'API failing.',
      scope: ['eu-west'],
      components: [{ id: ids['Product API'] as string, status: 'major_outage' }],
    });
    c.clock.advance(HOUR);
    await incidents.postUpdate(TEST_ACTOR, api.incident.id, { status: 'resolved', message: 'Fixed.' });
    // A drill never counts.
    c.clock.set(Date.UTC(2025, 2, 25, 0, 0));
    const drill = await incidents.declare(TEST_ACTOR, {
      name: 'Quarterly drill',
      message: 'Drill.',
      drill: true,
      components: [{ id: ids['Sign-in'] as string, status: 'major_outage' }],
    });
    c.clock.advance(10 * HOUR);
    await incidents.postUpdate(TEST_ACTOR, drill.incident.id, { status: 'resolved', message: 'Drill over.' });

    c.clock.set(Date.UTC(2025, 3, 2, 8, 0));
    expect((await call('POST', '/api/v1/credits/compute', 'commander', { month: '2025-3' })).statusCode).toBe(400);
    const future = await call('POST', '/api/v1/credits/compute', 'commander', { month: '2025-05' });
    expect(future.statusCode).toBe(422);
    expect(future.json().error.details).toEqual({ field: 'month' });
    expect((await call('POST', '/api/v1/credits/compute', 'sales', { month: '2025-03' })).statusCode).toBe(403);

    const first = await call('POST', '/api/v1/credits/compute', 'commander', { month: '2025-03' });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ month: '2025-03', month_complete: true, accounts: 4, proposed: 3, unchanged: 0 });
    expect(first.json().pending_cents).toEqual({ USD: 120_000 + 20_000 + 50_000 });

    // 140 weighted minutes of 44,640 (80 major + 120 partial × 0.5): 99.6863 %, band "below 99.9" → 10 %.
    expect(await entry('2025-03', 'NW-1')).toMatchObject({
      state: 'proposed',
      amount_cents: 120_000,
      availability_percent: 99.6863,
      downtime_minutes: 140,
      above_threshold: true,
      incidents: [expect.objectContaining({ name: 'CDN outage' })],
    });
    expect(await entry('2025-03', 'CT-2')).toMatchObject({ amount_cents: 20_000, downtime_minutes: 60, above_threshold: false });
    // Exactly the threshold is not above it.
    expect(await entry('2025-03', 'FB-3')).toMatchObject({ amount_cents: 50_000, downtime_minutes: 140, above_threshold: false });

    const again = await call('POST', '/api/v1/credits/compute', 'admin', { month: '2025-03' });
    expect(again.json()).toMatchObject({ proposed: 0, revised: 0, withdrawn: 0, unchanged: 3 });
    expect(await c.db.kysely.selectFrom('credits').select('id').execute()).toHaveLength(3);
  });

  test('approval authority: sales decides up to the threshold, legal or admin above it; each decision audited once', async () => {
    const nw = await entry('2025-03', 'NW-1');
    const ct = await entry('2025-03', 'CT-2');
    const fb = await entry('2025-03', 'FB-3');

    const denied = await call('POST', `/api/v1/credits/${nw.id}/approve`, 'sales', {});
    expect(denied.statusCode).toBe(403);
    expect(denied.json().error).toMatchObject({ code: 'approval_authority' });
    expect(denied.json().error.message).toMatch(/\$1,200\.00 is above the \$500\.00 approval threshold.*only admin or legal/);
    expect((await call('POST', `/api/v1/credits/${nw.id}/approve`, 'viewer', {})).statusCode).toBe(403);

    const stale = await call('POST', `/api/v1/credits/${nw.id}/approve`, 'legal', { amount_cents: 100_000 });
    expect(stale.statusCode).toBe(409);
    expect(stale.json().error.code).toBe('amount_changed');
    const approved = await call('POST', `/api/v1/credits/${nw.id}/approve`, 'legal', {
      amount_cents: 120_000,
      note: 'Contract §7',
    });
    expect(approved.statusCode).toBe(200);
    expect(approved.json()).toMatchObject({ state: 'approved', decided_by: { role: 'legal' }, decision_note: 'Contract §7' });

    expect((await call('POST', `/api/v1/credits/${ct.id}/approve`, 'sales', {})).json()).toMatchObject({ state: 'approved' });
    const again = await call('POST', `/api/v1/credits/${ct.id}/approve`, 'admin', {});
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('already_decided');

    const noReason = await call('POST', `/api/v1/credits/${fb.id}/reject`, 'sales', { note: '  ' });
    expect(noReason.statusCode).toBe(422);
    expect(noReason.json().error.details).toEqual({ field: 'note' });
    expect(
      (await call('POST', `/api/v1/credits/${fb.id}/reject`, 'sales', { note: 'Region not covered by contract' })).json(),
    ).toMatchObject({
      state: 'rejected',
    });

    const audit = async (action: string) => listAudit(c.db.kysely, { action, limit: 50 });
    const approvals = await audit('credit.approve');
    expect(approvals.map((a) => [a.target?.id, a.actor.role, a.details.above_threshold])).toEqual([
      [ct.id, 'sales', false],
      [nw.id, 'legal', true],
    ]);
    expect(approvals[1]?.details).toMatchObject({ amount_cents: 120_000, threshold_cents: 50_000, month: '2025-03' });
    expect((await audit('credit.reject')).map((a) => a.target?.id)).toEqual([fb.id]);
    expect(await audit('credit.propose')).toHaveLength(3);
    expect(await audit('credits.compute')).toHaveLength(2);
    expect(await audit('credits.policy.set')).toHaveLength(1);
    expect(await audit('credits.accounts.import')).toHaveLength(1);
  });

  test('billing CSV: approved credits only, exact amounts, formula-looking names defused; export needs its permission', async () => {
    expect((await call('GET', '/api/v1/credits/export.csv?month=2025-03', 'sales')).statusCode).toBe(403);
    const res = await call('GET', '/api/v1/credits/export.csv?month=2025-03', 'legal');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['content-disposition']).toContain('sla-credits-2025-03.csv');
    const [header, ...rows] = parseCsv(res.body).map((r) => r.cells);
    expect(header?.slice(0, 4)).toEqual(['credit_id', 'month', 'account_external_id', 'account_name']);
    expect(rows.map((r) => [r[2], r[3], r[6], r[7], r[8], r[9], r[10]])).toEqual([
      ['CT-2', `'${EVIL}`, '2000.00', '99.865', '60.0', '10', '200.00'],
      ['NW-1', 'Northwind Fixtures', '12000.00', '99.686', '140.0', '10', '1200.00'],
    ]);
    for (const row of rows) for (const cell of row) expect(cell).not.toMatch(/^[=+\-@]/);
  });

  test('decided credits are never rewritten; a recomputation reports what would differ', async () => {
    const nw = await entry('2025-03', 'NW-1');
    await csvImport('external_id,name,plan,monthly_fee,components\nNW-1,Northwind Fixtures,enterprise,24000,Showroom CDN\n');
    const res = (await call('POST', '/api/v1/credits/compute', 'admin', { month: '2025-03' })).json();
    expect(res).toMatchObject({ proposed: 0, revised: 0, unchanged: 3 });
    expect(res.decided_differs).toEqual([
      { credit_id: nw.id, account_id: expect.any(String), state: 'approved', amount_cents: 120_000, recomputed_cents: 240_000 },
    ]);
    expect((await entry('2025-03', 'NW-1')).amount_cents).toBe(120_000);
  });

  test('the running month: proposed but not decidable; a credit that falls to zero is withdrawn, then comes back', async () => {
    c.clock.set(Date.UTC(2025, 3, 10, 10, 0));
    const inc = await c.services.incidents.declare(TEST_ACTOR, {
      name: 'Sign-in down',
      message: 'Sign-in fails.',
      components: [{ id: ids['Sign-in'] as string, status: 'major_outage' }],
    });
    c.clock.advance(3 * HOUR);
    await c.services.incidents.postUpdate(TEST_ACTOR, inc.incident.id, { status: 'resolved', message: 'Back.' });
    const s = (await call('POST', '/api/v1/credits/compute', 'admin', { month: '2025-04' })).json();
    expect(s).toMatchObject({ month_complete: false, proposed: 2 }); // FB-3 (every component) and ZZ-4 (Sign-in)
    const zz = await entry('2025-04', 'ZZ-4');
    const open = await call('POST', `/api/v1/credits/${zz.id}/approve`, 'admin', {});
    expect(open.statusCode).toBe(409);
    expect(open.json().error.code).toBe('month_open');

    await csvImport('external_id,name,plan,monthly_fee,components\nZZ-4,Quiet Corp,enterprise,900,Showroom CDN\n');
    expect((await call('POST', '/api/v1/credits/compute', 'admin', { month: '2025-04' })).json()).toMatchObject({ withdrawn: 1 });
    expect((await entry('2025-04', 'ZZ-4')).state).toBe('withdrawn');
    const withdrawn = await call('POST', `/api/v1/credits/${zz.id}/approve`, 'admin', {});
    expect(withdrawn.json().error.code).toBe('credit_withdrawn');
    await csvImport('external_id,name,plan,monthly_fee,components\nZZ-4,Quiet Corp,enterprise,900,Sign-in\n');
    expect((await call('POST', '/api/v1/credits/compute', 'admin', { month: '2025-04' })).json()).toMatchObject({ revised: 1 });
    expect(await entry('2025-04', 'ZZ-4')).toMatchObject({ id: zz.id, state: 'proposed' });
    expect(await c.db.kysely.selectFrom('credits').select('id').where('month', '=', '2025-04').execute()).toHaveLength(2);
  });

  test('CLI: keepwarm credits compute and export', async () => {
    const out = capture();
    const err = capture();
    const common = ['--database-url', c.scratch.url, '--data-dir', c.scratch.dir];
    expect(await main(['credits', 'compute', '--month', '2025-03', ...common], { stdout: out.stream, stderr: err.stream })).toBe(
      0,
    );
    expect(out.text()).toMatch(/credits for 2025-03: 4 accounts, 0 proposed, 0 revised, 0 withdrawn, 3 unchanged/);
    expect(out.text()).toMatch(/approved credit .* would now be 240000 cents, not 120000/);
    const bad = capture();
    expect(await main(['credits', 'compute', '--month', 'March', ...common], { stdout: bad.stream, stderr: bad.stream })).toBe(2);
    expect(bad.text()).toContain('month: "March" is not a month such as 2025-06.');
    const csv = capture();
    expect(await main(['credits', 'export', '--month', '2025-03', ...common], { stdout: csv.stream, stderr: err.stream })).toBe(
      0,
    );
    expect(parseCsv(csv.text())).toHaveLength(3);
  });
});

describeEachDialect('SLA credits in the demo', (dialect) => {
  let c: TestContext;
  beforeAll(async () => {
    c = await createTestContext(dialect);
  }, 60_000);
  afterAll(async () => {
    await c?.close();
  });

  test("last month's CDN outage leaves one credit sales may approve and one for legal; a restart changes nothing", async () => {
    for (const component of DEMO_COMPONENTS) await c.services.components.create(TEST_ACTOR, component);
    const { month } = await seedDemoCredits(c.services);
    expect(month).toBe('2025-12');
    const list = await c.services.credits.list({ month });
    expect(list.map((e) => [e.accountExternalId, e.amountCents, e.amountCents > e.thresholdCents])).toEqual([
      ['ACME-ENT-001', 185_000, true],
      ['ACME-ENT-002', 92_000, false],
    ]);
    await seedDemoCredits(c.services);
    expect(await c.services.credits.list({ month })).toEqual(list);
    expect((await c.services.incidents.list({ limit: 10 })).length).toBe(1);
  });
});

describeEachDialect('SLA credits: the monthly close', (dialect) => {
  let c: TestContext;
  beforeAll(async () => {
    c = await createTestContext(dialect);
  }, 60_000);
  afterAll(async () => {
    await c?.close();
  });

  // Nobody else computes in this suite: every credits.compute audit entry is the daily close (a system actor).
  const closes = async () =>
    (await listAudit(c.db.kysely, { action: 'credits.compute', limit: 100 })).filter((a) => a.actor.type === 'system');

  test("nobody runs the computation: on the 1st the daily job proposes last month's credits; after the 7th it leaves them", async () => {
    const cdn = (await c.services.components.create(TEST_ACTOR, { name: 'Showroom CDN', kind: 'cdn' })).id;
    await c.services.credits.setPolicy(TEST_ACTOR, 'enterprise', POLICY);
    const imported = await c.services.credits.importAccounts(
      TEST_ACTOR,
      'external_id,name,plan,monthly_fee,currency,components,regions\nNW-1,Northwind,enterprise,12000.00,USD,Showroom CDN,\n',
    );
    expect(imported.applied).toBe(true);
    // Two hours down on 20 December.
    c.clock.set(Date.UTC(2025, 11, 20, 9, 0));
    const { incident } = await c.services.incidents.declare(TEST_ACTOR, {
      name: 'CDN outage',
      message: 'Product pages fail to load.',
      components: [{ id: cdn, status: 'major_outage' }],
    });
    c.clock.advance(2 * HOUR);
    await c.services.incidents.postUpdate(TEST_ACTOR, incident.id, { status: 'resolved', message: 'Resolved.' });
    await scheduleRecurringJobs(c.services);
    await c.worker.pump();
    expect(await c.services.credits.list({ month: '2025-12' })).toEqual([]);

    // Midnight UTC on 1 January: the daily run closes December.
    c.clock.set(Date.UTC(2026, 0, 1, 0, 0, 1));
    await c.worker.pump();
    const december = await c.services.credits.list({ month: '2025-12' });
    expect(december.map((e) => [e.accountExternalId, e.state, e.amountCents])).toEqual([['NW-1', 'proposed', 120_000]]);
    expect(await closes()).toHaveLength(1);

    // The next days recompute (late edits would revise it) without adding anything.
    c.clock.set(Date.UTC(2026, 0, 2, 0, 0, 1));
    await c.worker.pump();
    expect(await c.services.credits.list({ month: '2025-12' })).toEqual(december);
    expect(await closes()).toHaveLength(2);

    // From the 8th on, the daily run leaves the month alone.
    for (const day of [8, 9]) {
      c.clock.set(Date.UTC(2026, 0, day, 0, 0, 1));
      await c.worker.pump();
    }
    expect(await closes()).toHaveLength(2);
    // It stays scheduled: one next run, tomorrow.
    const next = await c.db.kysely
      .selectFrom('jobs')
      .select('run_at')
      .where('kind', '=', CLOSE_MONTH_JOB)
      .where('state', '=', 'queued')
      .execute();
    expect(next.map((j) => Number(j.run_at))).toEqual([Date.UTC(2026, 0, 10)]);
  });
});
