import { beforeAll, expect, test } from 'vitest';
import { type TestContext, useTestContext } from '../../test/harness/context.js';
import { describeEachDialect } from '../../test/harness/databases.js';
import { HOUR, MINUTE } from '../core/clock.js';

async function seed(c: TestContext): Promise<{ admin: string; ann: string; bob: string }> {
  const admin = await c.token('admin');
  const csv = 'Email,First Name,cart_value\nann@events.example,Ann,100\nbob@events.example,Bob,\n';
  const res = await c.call('POST', '/api/v1/leads/import', { token: admin, body: csv, headers: { 'content-type': 'text/csv' } });
  expect(res.json()).toMatchObject({ created: 2 });
  const leads = (await c.call('GET', '/api/v1/leads?limit=500', { token: admin })).json().leads as Array<{
    id: string;
    email: string;
  }>;
  const id = (email: string) => leads.find((l) => l.email === email)?.id ?? '';
  return { admin, ann: id('ann@events.example'), bob: id('bob@events.example') };
}

describeEachDialect('intent events', (dialect) => {
  const ctx = useTestContext(dialect);
  let ids: Awaited<ReturnType<typeof seed>>;
  beforeAll(async () => {
    ids = await seed(ctx());
  });

  const post = (events: unknown[], token: string) => ctx().call('POST', '/api/v1/events', { token, body: { events } });

  test('a batch is matched by leadId or email, deduplicated by messageId, and folded into the lead', async () => {
    const c = ctx();
    const token = await c.token('marketing');
    const viewedAt = new Date(c.clock.now() - 2 * HOUR).toISOString();
    const cartAt = new Date(c.clock.now() - 1 * HOUR).toISOString();
    const res = await post(
      [
        { messageId: 'm-1', type: 'product_viewed', email: 'ANN@events.example', product: 'Chiller X200', at: viewedAt },
        { messageId: 'm-2', type: 'cart_updated', leadId: ids.ann, value: 18_500, at: cartAt },
        { messageId: 'm-2', type: 'cart_updated', leadId: ids.ann, value: 18_500, at: cartAt },
        { messageId: 'm-3', type: 'product_viewed', anonymousId: 'anon-77', product: 'Pump P1' },
        { messageId: 'm-4', type: 'form_submitted', email: 'stranger@nowhere.example' },
      ],
      token,
    );
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ accepted: 4, duplicates: 1, unmatched: 2, errors: [] });
    // The SDK retries the whole batch: everything is a duplicate, nothing changes.
    const again = await post([{ messageId: 'm-1', type: 'product_viewed', email: 'ann@events.example', at: viewedAt }], token);
    expect(again.json()).toEqual({ accepted: 0, duplicates: 1, unmatched: 0, errors: [] });
    const ann = (await c.call('GET', `/api/v1/leads/${ids.ann}`, { token: ids.admin })).json();
    expect(ann).toMatchObject({ cart_value: 18_500, last_activity_at: cartAt, counts: { events: 2 } });
    expect(ann.intent_events.map((e: { type: string; product: string | null }) => [e.type, e.product])).toEqual([
      ['cart_updated', null],
      ['product_viewed', 'Chiller X200'],
    ]);
  });

  test('demo_booked sets the scheduled demo; during an outage it marks the lead re-engaged, first time only', async () => {
    const c = ctx();
    const token = await c.token('admin');
    const demoAt = new Date(c.clock.now() + 26 * HOUR).toISOString();
    await c.db.kysely.updateTable('leads').set({ outage_status: 'active' }).where('id', '=', ids.bob).execute();
    const bookedAt = c.clock.now();
    expect(
      (
        await post([{ messageId: 'd-1', type: 'demo_booked', leadId: ids.bob, properties: { scheduled_at: demoAt } }], token)
      ).json(),
    ).toMatchObject({ accepted: 1 });
    c.clock.advance(30 * MINUTE);
    await post([{ messageId: 'd-2', type: 'demo_booked', leadId: ids.bob }], token);
    const bob = (await c.call('GET', `/api/v1/leads/${ids.bob}`, { token })).json();
    expect(bob.demo_scheduled_at).toBe(demoAt);
    expect(bob.re_engaged_at).toBe(new Date(bookedAt).toISOString());
    // Ann is not in an outage: booking does not mark her re-engaged.
    await post([{ messageId: 'd-3', type: 'demo_booked', leadId: ids.ann }], token);
    expect((await c.call('GET', `/api/v1/leads/${ids.ann}`, { token })).json().re_engaged_at).toBeNull();
  });

  test('bad events are listed by index and field; the good ones in the batch are kept; bad batches are a 400', async () => {
    const c = ctx();
    const token = await c.token('marketing');
    const res = await post(
      [
        { messageId: 'e-1', type: 'product_viewed', email: 'ann@events.example' },
        { messageId: 'e-2', type: 'page_scrolled', email: 'ann@events.example' },
        { messageId: 'e-3', type: 'product_viewed', email: 'not-an-email' },
        { messageId: 'e-4', type: 'cart_updated', email: 'ann@events.example' },
        { type: 'product_viewed', email: 'ann@events.example' },
        { messageId: 'e-6', type: 'product_viewed' },
        'nonsense',
      ],
      token,
    );
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.accepted).toBe(1);
    expect(body.errors.map((e: { index: number; field: string }) => [e.index, e.field])).toEqual([
      [1, 'type'],
      [2, 'email'],
      [3, 'value'],
      [4, 'messageId'],
      [5, 'email'],
      [6, '(root)'],
    ]);
    const tooMany = Array.from({ length: 501 }, (_, i) => ({ messageId: `x${i}`, type: 'product_viewed', anonymousId: 'a' }));
    const big = await post(tooMany, token);
    expect(big.statusCode).toBe(400);
    expect(big.json().error.details[0]).toMatchObject({ field: 'events' });
    expect((await c.call('POST', '/api/v1/events', { token, body: { events: [] } })).statusCode).toBe(400);
    expect((await post([{ messageId: 'z', type: 'product_viewed', anonymousId: 'a' }], await c.token('sales'))).statusCode).toBe(
      403,
    );
    expect((await c.call('POST', '/api/v1/events', { body: { events: [] } })).statusCode).toBe(401);
  });
});
