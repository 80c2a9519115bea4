import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { useTestContext } from '../../test/harness/context.js';
import { describeEachDialect } from '../../test/harness/databases.js';
import { describeNeeding } from '../../test/harness/env.js';
import { fixturePath, fixturesMissing, readFixtureJson } from '../../test/harness/fixtures.js';
import { main } from '../cli/main.js';
import { parseCsv } from './import/csv.js';
import { planColumns } from './import/mapping.js';

function importCsv(c: ReturnType<ReturnType<typeof useTestContext>>, token: string, csv: string, query = '') {
  return c.call('POST', `/api/v1/leads/import${query}`, { token, body: csv, headers: { 'content-type': 'text/csv' } });
}

describeEachDialect('leads: import, export, API', (dialect) => {
  const ctx = useTestContext(dialect);

  describeNeeding('the shared fixtures', fixturesMissing, 'real HubSpot and Salesforce exports import cleanly', () => {
    test('every CSV fixture: no errors; header-only files 0 rows; the Salesforce demo export 8 leads; re-import changes nothing', async () => {
      const c = ctx();
      const token = await c.token('marketing');
      const dir = fixturePath('crm');
      const csvs = readdirSync(dir).filter((f) => f.endsWith('.csv'));
      expect(csvs.length).toBeGreaterThanOrEqual(4);
      for (const file of csvs) {
        const text = readFileSync(join(dir, file), 'utf8');
        const res = await importCsv(c, token, text);
        expect(res.statusCode, `${file}: ${res.body}`).toBe(200);
        const s = res.json();
        expect(s.errors, file).toBe(0);
        expect(s.rows, file).toBe(parseCsv(text).length - 1);
        if (file.includes('header_only')) expect(s.rows).toBe(0);
        if (file === 'salesforce_leads_demo_org_export.csv') expect(s.created).toBe(8);
        const again = (await importCsv(c, token, text)).json();
        expect(again, file).toMatchObject({ created: 0, updated: 0, unchanged: s.rows, errors: 0 });
      }
      const list = (await c.call('GET', '/api/v1/leads?limit=500', { token })).json().leads as Array<Record<string, unknown>>;
      const betty = list.find((l) => l.external_id === '00Q5i00000GAqYyEAL');
      expect(betty).toMatchObject({
        email: 'bblair@abankingco.com',
        phone: '+16102659100',
        first_name: 'Betty',
        title: 'VP, Administration',
        company: 'American Banking Corp.',
        lifecycle: 'mql',
        crm_status: 'Working - Contacted',
        source: 'Purchased List',
        owner_ref: '0055i000007S72zAAC',
        owner_id: null,
      });
      expect(list.find((l) => l.external_id === '00Q5i00000GAqYfEAL')?.phone).toBe('+886225474189');
      const bertha = list.find((l) => l.email === 'bertha@fcof.net');
      expect(bertha?.attributes).toMatchObject({ annual_revenue: 900_750_000, Industry: 'Agriculture', City: 'Tallahassee' });
      expect(list.find((l) => l.email === 'leslie@pawneeparks.com')).toMatchObject({ first_name: 'Leslie', external_id: null });
    });

    test('the Salesforce REST field list: every standard lead field has a home, custom fields go to attributes', async () => {
      const c = ctx();
      const fields = readFixtureJson<{ fields: string[] }>('crm', 'salesforce_lead_rest_v57_fields.json').fields;
      const plan = planColumns(fields);
      const mapped = Object.fromEntries(plan.filter((p) => p.target).map((p) => [p.header, p.target]));
      expect(mapped).toMatchObject({
        Id: 'external_id',
        FirstName: 'first_name',
        LastName: 'last_name',
        Email: 'email',
        Phone: 'phone',
        MobilePhone: 'mobile',
        Company: 'company',
        Title: 'title',
        Status: 'status',
        LeadSource: 'source',
        OwnerId: 'owner',
        AnnualRevenue: 'annual_revenue',
        Country: 'country',
      });
      expect(plan.find((p) => p.header === 'ProductInterest__c')?.target).toBeNull();
      const res = await importCsv(c, await c.token('admin'), `${fields.join(',')}\n`);
      expect(res.json()).toMatchObject({ rows: 0, errors: 0, applied: false });
    });
  });

  test('dry run previews the rows as stored and writes nothing; owners matched by email', async () => {
    const c = ctx();
    const admin = await c.token('admin');
    await c.services.auth.createUser(
      { type: 'system', id: null, name: 't', role: 'admin', ip: null },
      { email: 'Rep.One@Example.com', role: 'sales', name: 'Rep One', password: 'correct-horse-battery' },
    );
    const csv = [
      '"Record ID","First Name","Email","Mobile Phone Number","Contact owner","Lifecycle Stage","arr_potential","demo_scheduled_at","Favourite colour"',
      '9001,Dana,Dana@Prospect.example,+44 7700 900123,rep.one@example.com,salesqualifiedlead,"$40,000",2026-11-28 15:00,teal',
    ].join('\n');
    const res = await importCsv(c, admin, csv, '?dry_run=true');
    expect(res.statusCode).toBe(200);
    const s = res.json();
    expect(s).toMatchObject({ dry_run: true, applied: false, rows: 1, created: 1, errors: 0 });
    expect(s.preview[0]).toMatchObject({
      row: 2,
      action: 'create',
      lead: {
        external_id: '9001',
        email: 'dana@prospect.example',
        phone: '+447700900123',
        lifecycle: 'sql',
        arr_potential: 40_000,
        demo_scheduled_at: '2026-11-28T15:00:00.000Z',
        attributes: { 'Favourite colour': 'teal' },
      },
    });
    expect(typeof s.preview[0].lead.owner_id).toBe('string');
    expect(s.columns).toContainEqual({ column: 'Favourite colour', field: 'attributes' });
    const found = (await c.call('GET', '/api/v1/leads?limit=500', { token: admin })).json().leads;
    expect(found.some((l: { email: string }) => l.email === 'dana@prospect.example')).toBe(false);
  });

  test('all or nothing: one bad row imports nothing and every error names row and column; --skip-invalid imports the rest', async () => {
    const c = ctx();
    const admin = await c.token('admin');
    const csv = [
      'Email,Phone Number,ARR Potential,Last Activity Date',
      'good1@aon.example,(212) 555-0101,5000,2026-11-01',
      'not-an-email,(212) 555-0102,5000,2026-11-01',
      'good2@aon.example,12345,lots,yesterday',
      '"good3@aon.example","(212) 555-0103","7,500",2026-11-02T10:00:00Z',
      'GOOD1@aon.example,,,',
    ].join('\r\n');
    const res = await importCsv(c, admin, csv);
    expect(res.statusCode).toBe(422);
    const s = res.json();
    expect(s).toMatchObject({ applied: false, created: 0, errors: 5 });
    expect(s.error_list.map((e: { row: number; column: string }) => [e.row, e.column])).toEqual([
      [3, 'Email'],
      [4, 'ARR Potential'],
      [4, 'Last Activity Date'],
      [4, 'Phone Number'],
      [6, 'Email'],
    ]);
    expect(s.error_list[4].message).toMatch(/row 2/);
    const none = (await c.call('GET', '/api/v1/leads?limit=500', { token: admin })).json().leads;
    expect(none.some((l: { email: string }) => l.email?.endsWith('@aon.example'))).toBe(false);

    const skipped = (await importCsv(c, admin, csv, '?skip_invalid=true')).json();
    expect(skipped).toMatchObject({ applied: true, created: 2, errors: 5 });
    const after = (await c.call('GET', '/api/v1/leads?limit=500', { token: admin })).json().leads;
    expect(
      after
        .filter((l: { email: string }) => l.email?.endsWith('@aon.example'))
        .map((l: { email: string }) => l.email)
        .sort(),
    ).toEqual(['good1@aon.example', 'good3@aon.example']);
  });

  test('re-import matches by external id, else email; only changed rows are rewritten', async () => {
    const c = ctx();
    const admin = await c.token('admin');
    const v1 = 'Id,Email,FirstName,Status\n00Qa,ria@reimport.example,Ria,Open - Not Contacted\n,sam@reimport.example,Sam,\n';
    expect((await importCsv(c, admin, v1)).json()).toMatchObject({ created: 2, updated: 0 });
    const ria = (await c.call('GET', '/api/v1/leads?limit=500', { token: admin }))
      .json()
      .leads.find((l: { external_id: string }) => l.external_id === '00Qa');
    c.clock.advance(60_000);
    // Ria changed email and status (matched by Id); Sam gained an Id (matched by email).
    const v2 =
      'Id,Email,FirstName,Status\n00Qa,ria.new@reimport.example,Ria,Working - Contacted\n00Qb,sam@reimport.example,Sam,\n';
    expect((await importCsv(c, admin, v2)).json()).toMatchObject({ created: 0, updated: 2, unchanged: 0 });
    expect((await importCsv(c, admin, v2)).json()).toMatchObject({ created: 0, updated: 0, unchanged: 2 });
    const got = (await c.call('GET', `/api/v1/leads/${ria.id}`, { token: admin })).json();
    expect(got).toMatchObject({ email: 'ria.new@reimport.example', lifecycle: 'mql', crm_status: 'Working - Contacted' });
    expect(got.counts).toEqual({ events: 0, tasks: 0, enrollments: 0 });
    expect(Date.parse(got.updated_at)).toBeGreaterThan(Date.parse(got.created_at));
  });

  test('JSON array and JSON lines import with the same names and row numbers', async () => {
    const c = ctx();
    const admin = await c.token('admin');
    const arr = await c.call('POST', '/api/v1/leads/import', {
      token: admin,
      body: [
        { email: 'j1@json.example', arr_potential: 12000, consent_sms: true, cart_value: '$1,200' },
        { email: 'j2@json.example', phone: '+1 415 555 0100' },
      ],
    });
    expect(arr.statusCode).toBe(200);
    expect(arr.json()).toMatchObject({ created: 2, errors: 0 });
    // A Salesforce REST query result and a HubSpot CRM v3 list import as they come.
    const salesforce = {
      totalSize: 1,
      done: true,
      records: [
        {
          attributes: { type: 'Lead', url: '/services/data/v57.0/sobjects/Lead/00Qj1' },
          Id: '00Qj1',
          Email: 'sf@json.example',
          Status: 'Working - Contacted',
          AnnualRevenue: 2500000,
        },
      ],
    };
    const sf = await c.call('POST', '/api/v1/leads/import', { token: admin, body: salesforce });
    expect(sf.json()).toMatchObject({ created: 1, errors: 0 });
    expect(sf.json().preview[0].lead).toMatchObject({
      external_id: '00Qj1',
      lifecycle: 'mql',
      attributes: { annual_revenue: 2_500_000 },
    });
    const hubspot = {
      results: [{ id: '5101', properties: { email: 'hs@json.example', firstname: 'Hana', lifecyclestage: 'customer' } }],
    };
    const hs = await c.call('POST', '/api/v1/leads/import', { token: admin, body: hubspot });
    expect(hs.json().preview[0].lead).toMatchObject({ external_id: '5101', first_name: 'Hana', lifecycle: 'customer' });
    const lines = '{"email":"j3@json.example"}\n{"email":"bad"}\n';
    const res = await c.call('POST', '/api/v1/leads/import', {
      token: admin,
      body: lines,
      headers: { 'content-type': 'application/x-ndjson' },
    });
    expect(res.statusCode).toBe(422);
    expect(res.json().error_list).toEqual([{ row: 2, column: 'email', message: expect.stringMatching(/email/) }]);
  });

  test('POST /api/v1/leads creates then updates one lead; bad fields get a 422 naming them; permissions hold', async () => {
    const c = ctx();
    const admin = await c.token('admin');
    const created = await c.call('POST', '/api/v1/leads', {
      token: admin,
      body: { email: 'one@api.example', first_name: 'One', arr_potential: '30K', timezone: 'Europe/Paris' },
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({
      email: 'one@api.example',
      arr_potential: 30_000,
      timezone: 'Europe/Paris',
      lifecycle: 'lead',
    });
    const updated = await c.call('POST', '/api/v1/leads', { token: admin, body: { email: 'ONE@api.example', title: 'CTO' } });
    expect(updated.statusCode).toBe(200);
    expect(updated.json()).toMatchObject({ id: created.json().id, title: 'CTO', first_name: 'One' });
    const bad = await c.call('POST', '/api/v1/leads', {
      token: admin,
      body: { email: 'x@y.example', phone: '555', demo_scheduled_at: 'soon' },
    });
    expect(bad.statusCode).toBe(422);
    expect(
      bad
        .json()
        .error.details.map((d: { field: string }) => d.field)
        .sort(),
    ).toEqual(['demo_scheduled_at', 'phone']);
    expect((await c.call('POST', '/api/v1/leads', { token: admin, body: { first_name: 'Nobody' } })).statusCode).toBe(422);
    expect((await c.call('GET', '/api/v1/leads/nope', { token: admin })).statusCode).toBe(404);
    expect((await c.call('GET', '/api/v1/leads?tier=Z', { token: admin })).statusCode).toBe(400);
    const viewer = await c.token('viewer');
    expect((await importCsv(c, viewer, 'Email\na@b.example\n')).statusCode).toBe(403);
    expect((await c.call('GET', '/api/v1/leads', { token: viewer })).statusCode).toBe(200);
  });

  test('list filters by tier, owner and outage status, with paging', async () => {
    const c = ctx();
    const admin = await c.token('admin');
    const csv = ['Email', ...Array.from({ length: 7 }, (_, i) => `page${i}@paging.example`)].join('\n');
    await importCsv(c, admin, csv);
    await c.db.kysely
      .updateTable('leads')
      .set({ tier: 'A', outage_status: 'active' })
      .where('email', 'like', 'page%@paging.example')
      .execute();
    await c.db.kysely.updateTable('leads').set({ tier: 'B' }).where('email', '=', 'page6@paging.example').execute();
    const seen: string[] = [];
    let cursor = '';
    for (let i = 0; i < 5; i++) {
      const page = (await c.call('GET', `/api/v1/leads?tier=A&outage_status=active&limit=4${cursor}`, { token: admin })).json();
      seen.push(...page.leads.map((l: { email: string }) => l.email));
      if (!page.next_cursor) break;
      cursor = `&cursor=${page.next_cursor}`;
    }
    expect(seen.sort()).toEqual(Array.from({ length: 6 }, (_, i) => `page${i}@paging.example`));
  });

  test('export CSV: outage fields, formula injection defused, the export re-imports', async () => {
    const c = ctx();
    const admin = await c.token('admin');
    const evil = [
      'Email,First Name,Last Name,Company,Title',
      'evil@export.example,=HYPERLINK("http://x.example"),+SUM(1),@cmd,"-2+3"',
    ].join('\n');
    expect((await importCsv(c, admin, evil)).json()).toMatchObject({ created: 1 });
    await c.db.kysely
      .updateTable('leads')
      .set({ outage_status: 'active', outage_channel: 'CDN', outage_priority: 'high', fallback_sent: 1, tier: 'A' })
      .where('email', '=', 'evil@export.example')
      .execute();
    const res = await c.call('GET', '/api/v1/leads/export.csv', { token: admin });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/csv/);
    const records = parseCsv(res.body);
    const header = records[0]?.cells ?? [];
    expect(header).toEqual(
      expect.arrayContaining(['outage_status', 'outage_channel', 'outage_priority', 'fallback_sent', 'tier']),
    );
    const row = records.find((r) => r.cells.includes('evil@export.example'))?.cells ?? [];
    const cell = (name: string) => row[header.indexOf(name)];
    expect(cell('first_name')).toBe(`'=HYPERLINK("http://x.example")`);
    expect(cell('last_name')).toBe(`'+SUM(1)`);
    expect(cell('company')).toBe(`'@cmd`);
    expect(cell('title')).toBe(`'-2+3`);
    expect([cell('outage_status'), cell('outage_channel'), cell('outage_priority'), cell('fallback_sent')]).toEqual([
      'active',
      'CDN',
      'high',
      'true',
    ]);
    // No cell of the file starts with a formula character.
    for (const r of records) for (const v of r.cells) expect(v).not.toMatch(/^[=+@\t\r]/);
    // Importing the export back changes nothing (the defusing apostrophe is taken off again).
    const back = (await importCsv(c, admin, res.body)).json();
    expect(back).toMatchObject({ errors: 0, created: 0, updated: 0, unchanged: records.length - 1 });
  });

  describe('CLI', () => {
    test('keepwarm import leads FILE: dry run, real import, summary line; a bad file exits 2 and imports nothing', async () => {
      const c = ctx();
      const file = join(c.scratch.dir, 'cli-leads.csv');
      writeFileSync(file, 'Record ID,Email,First Name\nc1,cli1@cli.example,Cli\nc2,cli2@cli.example,Two\n');
      const run = async (...args: string[]) => {
        let stdout = '';
        let stderr = '';
        const code = await main([...args, '--database-url', c.scratch.url], {
          stdout: {
            write: (s: string) => {
              stdout += s;
              return true;
            },
          } as unknown as typeof process.stdout,
          stderr: {
            write: (s: string) => {
              stderr += s;
              return true;
            },
          } as unknown as typeof process.stderr,
        });
        return { code, stdout, stderr };
      };
      const dry = await run('import', 'leads', file, '--dry-run');
      expect(dry.code).toBe(0);
      expect(dry.stdout).toMatch(/dry run \(nothing written\): 2 rows, 2 created/);
      expect(dry.stdout).toMatch(/"Record ID" -> external_id/);
      const real = await run('import', 'leads', file);
      expect(real.code).toBe(0);
      expect(real.stdout).toMatch(
        /^imported: 2 rows, 2 created, 0 updated, 0 unchanged, 0 with errors in [\d.]+ s \(\d+ rows\/s\)$/m,
      );
      expect((await run('import', 'leads', file)).stdout).toMatch(/nothing to change: 2 rows, 0 created, 0 updated, 2 unchanged/);
      writeFileSync(file, 'Email\ncli3@cli.example\nbroken\n');
      const exported = join(c.scratch.dir, 'cli-export.csv');
      expect((await run('export', 'leads', '--out', exported)).code).toBe(0);
      const exportedRows = parseCsv(readFileSync(exported, 'utf8'));
      expect(exportedRows[0]?.cells).toContain('outage_status');
      expect(exportedRows.some((r) => r.cells.includes('cli2@cli.example'))).toBe(true);
      const bad = await run('import', 'leads', file);
      expect(bad.code).toBe(2);
      expect(bad.stdout).toMatch(/row 3, column "Email"/);
      const count = await c.db.kysely.selectFrom('leads').select('email').where('email', '=', 'cli3@cli.example').execute();
      expect(count).toHaveLength(0);
    });
  });
});
