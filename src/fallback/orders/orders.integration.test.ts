import { afterAll, beforeAll, beforeEach, expect, test } from 'vitest';
import { createTestContext, TEST_ACTOR, type TestContext } from '../../../test/harness/context.js';
import { describeEachDialect } from '../../../test/harness/databases.js';
import { type SmtpSink, startSmtpSink } from '../../../test/harness/smtp-sink.js';
import { seedDefaultTemplates } from '../../messaging/default-templates.js';
import { listOrders } from './orders.repo.js';
import { ORDERS_PATH } from './orders.routes.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html,application/xhtml+xml' };
const MIRROR = 'https://mirror.northwind.example';

function form(fields: Record<string, string | string[]>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const one of [v].flat()) params.append(k, one);
  return params.toString();
}

const BUYER = { company: 'Acme <Labs>', name: 'Ada Buyer', email: 'Ada@Acme.example', phone: '+1 555 0100' };

describeEachDialect('offline purchase orders', (dialect) => {
  let c: TestContext;
  let smtp: SmtpSink;

  beforeAll(async () => {
    smtp = await startSmtpSink();
    c = await createTestContext(dialect, {
      config: {
        'smtp.url': smtp.url,
        'messaging.variables': { company: 'Northwind' },
        'fallback.salesEmail': 'sales@northwind.example',
        'fallback.orderOrigins': [MIRROR],
      },
    });
    await seedDefaultTemplates(c.db, c.clock, { approve: true });
    const imported = await c.services.catalog.import(
      'sku,name,price\nCH-100,Task chair,120 EUR\nDK-220,Standing desk,480 EUR\n',
      {
        file: 'catalog.csv',
      },
    );
    expect(imported.applied).toBe(true);
  }, 60_000);

  afterAll(async () => {
    await smtp?.stop();
    await c?.close();
  });

  beforeEach(async () => {
    await smtp.reset();
  });

  const post = (body: string, headers: Record<string, string>) =>
    c.app.inject({ method: 'POST', url: ORDERS_PATH, payload: body, headers, remoteAddress: '203.0.113.7' });
  const stored = () => listOrders(c.db.kysely, { limit: 100 });
  const pump = async () => {
    await c.worker.pump();
    await c.worker.pump();
  };

  test('a form post without JavaScript: thank-you page with the reference, stored with the incident, emailed to sales and the buyer', async () => {
    const incident = await c.services.incidents.declare(TEST_ACTOR, { name: 'Showroom down', message: 'Pages fail to load.' });
    const before = (await stored()).length;
    const res = await post(
      form({
        ...BUYER,
        notes: 'Deliver to dock 4',
        source: `${MIRROR}/order/`,
        'sku[]': ['CH-100', '', 'DK-220'],
        'product[]': ['Task chair', '', 'Standing desk'],
        'qty[]': ['12', '', '1,200'],
      }),
      { ...FORM, origin: MIRROR, referer: `${MIRROR}/order/` },
    );
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    const reference = /data-reference>(KW-[A-Z2-9]{4}-[A-Z2-9]{4})</.exec(res.body)?.[1];
    expect(reference).toBeDefined();
    expect(res.body).toContain('Acme &lt;Labs&gt;');
    expect(res.body).toContain(`href="${MIRROR}/order/"`);
    expect(res.body).not.toContain('<script');

    const orders = await stored();
    expect(orders.length).toBe(before + 1);
    const order = orders.find((o) => o.reference === reference);
    expect(order).toMatchObject({
      company: 'Acme <Labs>',
      contactName: 'Ada Buyer',
      email: 'ada@acme.example',
      phone: '+1 555 0100',
      notes: 'Deliver to dock 4',
      source: `${MIRROR}/order/`,
      unknownSkus: 0,
      incidentId: incident.incident.id,
      incidentName: 'Showroom down',
      state: 'new',
      emailProblem: null,
    });
    expect(order?.lines).toEqual([
      { sku: 'CH-100', name: 'Task chair', quantity: 12, known: true },
      { sku: 'DK-220', name: 'Standing desk', quantity: 1200, known: true },
    ]);
    expect(order?.emailedAt).toBe(c.clock.now());
    expect(order?.ipHash).toMatch(/^[0-9a-f]{32}$/);
    expect(order?.ipHash).not.toContain('203.0.113.7');

    await pump();
    const mails = await smtp.parsed();
    const toSales = mails.find((m) => m.to.includes('sales@northwind.example'));
    expect(toSales?.subject).toBe(`Offline order ${reference} from Acme <Labs>`);
    expect(toSales?.html).toContain('12 x CH-100: Task chair; 1,200 x DK-220: Standing desk');
    expect(toSales?.html).toContain('Received during the incident &quot;Showroom down&quot;');
    expect(toSales?.html).toContain('https://status.example.test/console/orders');
    const receipt = mails.find((m) => m.to.includes('ada@acme.example'));
    expect(receipt?.subject).toBe(`We received your order ${reference}`);
    await c.services.incidents.postUpdate(TEST_ACTOR, incident.incident.id, { status: 'resolved', message: 'Fixed.' });
  });

  test('JSON post: 201 with the reference; an unknown SKU is kept and flagged, never refused', async () => {
    const res = await c.app.inject({
      method: 'POST',
      url: ORDERS_PATH,
      payload: {
        ...BUYER,
        lines: [
          { sku: 'CH-100', name: 'Task chair', quantity: 2 },
          { sku: 'ZZ-404', name: 'Old lamp', quantity: 5 },
        ],
      },
      headers: { accept: 'application/json', origin: MIRROR },
    });
    expect(res.statusCode).toBe(201);
    expect(res.headers['access-control-allow-origin']).toBe(MIRROR);
    const body = res.json();
    expect(body.reference).toMatch(/^KW-[A-Z2-9]{4}-[A-Z2-9]{4}$/);
    expect(body.unknown_skus).toBe(1);
    expect(body.lines).toEqual([
      { sku: 'CH-100', name: 'Task chair', quantity: 2, known: true },
      { sku: 'ZZ-404', name: 'Old lamp', quantity: 5, known: false },
    ]);
    const order = (await stored()).find((o) => o.reference === body.reference);
    expect(order?.unknownSkus).toBe(1);
    expect(order?.incidentId).toBeNull();
    await pump();
    const toSales = (await smtp.parsed()).find((m) => m.to.includes('sales@northwind.example'));
    expect(toSales?.html).toContain('5 x ZZ-404: Old lamp (NOT IN CATALOG)');
    expect(toSales?.html).toContain('1 SKU(s) are not in the current catalog');
  });

  test('bad email and quantities: 422 page naming each field, nothing stored, nothing sent', async () => {
    const before = (await stored()).length;
    const res = await post(
      form({ ...BUYER, email: 'ada-at-acme', 'sku[]': ['CH-100', 'DK-220', ''], 'qty[]': ['0', 'lots', '3'] }),
      FORM,
    );
    expect(res.statusCode).toBe(422);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.body).toContain('data-field="email"');
    expect(res.body).toContain('data-field="qty[0]"');
    expect(res.body).toContain('data-field="qty[1]"');
    expect(res.body).toContain('data-field="sku[2]"');
    expect(res.body).toContain('quantity must be a whole number from 1 to 100,000');

    const json = await c.app.inject({
      method: 'POST',
      url: ORDERS_PATH,
      payload: { company: '', name: 'X', email: 'x@y.example', lines: [{ sku: 'CH-100', quantity: 100001 }] },
      headers: { accept: 'application/json' },
    });
    expect(json.statusCode).toBe(422);
    expect(json.json().error.details).toEqual([
      { field: 'company', message: 'Company is required.' },
      { field: 'lines[0].quantity', message: 'Line 1: quantity must be a whole number from 1 to 100,000.' },
    ]);
    const empty = await post(form({ ...BUYER }), FORM);
    expect(empty.statusCode).toBe(422);
    expect(empty.body).toContain('data-field="lines"');

    expect((await stored()).length).toBe(before);
    await pump();
    expect(await smtp.count()).toBe(0);
  });

  test('CORS only for the configured mirror origins; a form post from elsewhere still lands', async () => {
    const preflight = (origin: string) =>
      c.app.inject({
        method: 'OPTIONS',
        url: ORDERS_PATH,
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
      });
    const ok = await preflight(MIRROR);
    expect(ok.statusCode).toBe(204);
    expect(ok.headers['access-control-allow-origin']).toBe(MIRROR);
    expect(ok.headers['access-control-allow-methods']).toBe('POST');
    const other = await preflight('https://evil.example');
    expect(other.statusCode).toBe(403);
    expect(other.headers['access-control-allow-origin']).toBeUndefined();

    const res = await post(form({ ...BUYER, 'sku[]': 'CH-100', 'qty[]': '1' }), { ...FORM, origin: 'https://evil.example' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  test('size cap and per-address rate limit', async () => {
    const big = await post(form({ ...BUYER, notes: 'x'.repeat(70_000), 'sku[]': 'CH-100', 'qty[]': '1' }), FORM);
    expect(big.statusCode).toBe(413);
    const flood = async () =>
      c.app.inject({
        method: 'POST',
        url: ORDERS_PATH,
        payload: { ...BUYER, lines: [{ sku: 'CH-100', quantity: 1 }] },
        headers: { accept: 'application/json' },
        remoteAddress: '198.51.100.9',
      });
    const codes: number[] = [];
    for (let i = 0; i < 31; i++) codes.push((await flood()).statusCode);
    expect(codes.slice(0, 30).every((s) => s === 201)).toBe(true);
    const refused = await flood();
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    c.clock.advance(60 * 60_000);
    expect((await flood()).statusCode).toBe(201);
  });

  test('console: the list shows lines, flags and the incident; sales marks acknowledged then converted', async () => {
    const sales = await c.token('sales');
    const page = await c.call('GET', '/console/orders', { token: sales });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Acme &lt;Labs&gt;');
    expect(page.body).toContain('not in catalog');
    expect(page.body).toContain('Showroom down');
    expect(page.body).toContain('sales@northwind.example');
    const order = (await stored()).find((o) => o.unknownSkus === 1);
    expect(order).toBeDefined();
    const id = order?.id as string;
    const ack = await c.call('POST', `/console/orders/${id}/acknowledge`, {
      token: sales,
      body: '',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(ack.statusCode).toBe(303);
    const conv = await c.call('POST', `/console/orders/${id}/convert`, {
      token: sales,
      body: '',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(conv.statusCode).toBe(303);
    expect((await stored()).find((o) => o.id === id)?.state).toBe('converted');
    const again = await c.call('POST', `/console/orders/${id}/acknowledge`, {
      token: sales,
      body: '',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
    });
    expect(again.statusCode).toBe(409);
    expect(again.body).toContain('cannot be marked acknowledged');
    // Legal has no access to orders.
    expect((await c.call('GET', '/console/orders', { token: await c.token('legal') })).statusCode).toBe(403);
  });
});

describeEachDialect('offline purchase orders without a sales address', (dialect) => {
  let c: TestContext;
  beforeAll(async () => {
    c = await createTestContext(dialect);
    await seedDefaultTemplates(c.db, c.clock, { approve: true });
  }, 60_000);
  afterAll(async () => c?.close());

  test('the order is stored (SKUs unchecked without a catalog) and the console says nobody is emailed', async () => {
    const res = await c.app.inject({
      method: 'POST',
      url: ORDERS_PATH,
      payload: form({ ...BUYER, 'sku[]': 'CH-100', 'qty[]': '3' }),
      headers: FORM,
    });
    expect(res.statusCode).toBe(200);
    const [order] = await listOrders(c.db.kysely, { limit: 10 });
    expect(order).toMatchObject({ emailedAt: null, unknownSkus: 1, snapshotId: null });
    expect(order?.emailProblem).toMatch(/fallback\.salesEmail/);
    const page = await c.call('GET', '/console/orders', { token: await c.token('admin') });
    expect(page.body).toContain('No sales address is configured (fallback.salesEmail)');
  });
});
