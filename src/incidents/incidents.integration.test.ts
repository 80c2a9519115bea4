import { beforeAll, expect, test } from 'vitest';
import { useTestContext } from '../../test/harness/context.js';
import { describeEachDialect } from '../../test/harness/databases.js';
import { MINUTE } from '../core/clock.js';

describeEachDialect('incidents API', (dialect) => {
  const ctx = useTestContext(dialect);
  let commander: string;
  let cdn: string;
  let api: string;

  beforeAll(async () => {
    commander = await ctx().token('commander');
    const create = async (name: string, kind: string, group?: string) => {
      const res = await ctx().call('POST', '/api/v1/components', {
        token: commander,
        body: { name, kind, ...(group && { group }) },
      });
      expect(res.statusCode).toBe(201);
      return res.json().id as string;
    };
    cdn = await create('Showroom CDN', 'cdn', 'Showroom');
    api = await create('Product API', 'api', 'Showroom');
    await create('Sign-in', 'auth');
  });

  test('components: create, list in order, patch, duplicate names refused', async () => {
    const list = await ctx().call('GET', '/api/v1/components', { token: commander });
    expect(list.json().components.map((c: { name: string }) => c.name)).toEqual(['Showroom CDN', 'Product API', 'Sign-in']);
    const dup = await ctx().call('POST', '/api/v1/components', { token: commander, body: { name: 'Showroom CDN', kind: 'cdn' } });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().error.code).toBe('component_exists');
    const patched = await ctx().call('PATCH', `/api/v1/components/${api}`, {
      token: commander,
      body: { description: 'Catalog and prices' },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({
      name: 'Product API',
      kind: 'api',
      description: 'Catalog and prices',
      group: 'Showroom',
    });
    const badKind = await ctx().call('POST', '/api/v1/components', { token: commander, body: { name: 'X', kind: 'database' } });
    expect(badKind.statusCode).toBe(400);
    expect(badKind.json().error.details[0]).toMatchObject({ in: 'body', field: 'kind' });
  });

  test('declare → update → resolve: times, component statuses, timeline and 409 on an illegal transition', async () => {
    const c = ctx();
    const startedAt = new Date(c.clock.now() - 4 * MINUTE).toISOString();
    const declared = await c.call('POST', '/api/v1/incidents', {
      token: commander,
      body: {
        name: 'Product pages down',
        components: [{ id: cdn, status: 'major_outage' }],
        scope: ['eu-west'],
        started_at: startedAt,
      },
    });
    expect(declared.statusCode).toBe(201);
    const incident = declared.json();
    expect(incident).toMatchObject({
      name: 'Product pages down',
      status: 'investigating',
      impact: 'critical',
      scope: ['eu-west'],
      channels: ['CDN'],
      started_at: startedAt,
      acknowledged_at: null,
      components: [{ id: cdn, status: 'major_outage' }],
      updates: [],
    });
    expect(declared.headers.location).toBe(`/api/v1/incidents/${incident.id}`);
    // Not yet acknowledged: not on the public status API.
    expect((await c.call('GET', '/api/v2/incidents/unresolved.json')).json().incidents).toEqual([]);

    c.clock.advance(6 * MINUTE);
    const ack = await c.call('POST', `/api/v1/incidents/${incident.id}/updates`, {
      token: commander,
      body: {
        status: 'identified',
        message: 'Our CDN provider has an outage in Europe.',
        components: [{ id: api, status: 'degraded_performance' }],
      },
    });
    expect(ack.statusCode).toBe(201);
    expect(ack.json()).toMatchObject({
      status: 'identified',
      acknowledged_at: new Date(c.clock.now()).toISOString(),
      channels: ['CDN', 'API'],
    });
    expect((await c.call('GET', `/api/v1/components/${api}`, { token: commander })).json().status).toBe('degraded_performance');

    c.clock.advance(30 * MINUTE);
    await c.call('POST', `/api/v1/incidents/${incident.id}/updates`, {
      token: commander,
      body: { status: 'monitoring', message: 'Traffic moved to the backup CDN.' },
    });
    c.clock.advance(10 * MINUTE);
    const resolved = await c.call('POST', `/api/v1/incidents/${incident.id}/updates`, {
      token: commander,
      body: { status: 'resolved', message: 'All product pages load normally again.' },
    });
    expect(resolved.json()).toMatchObject({
      status: 'resolved',
      resolved_at: new Date(c.clock.now()).toISOString(),
      components: [
        { id: cdn, status: 'operational' },
        { id: api, status: 'operational' },
      ],
    });
    expect(resolved.json().monitoring_at).toBe(new Date(c.clock.now() - 10 * MINUTE).toISOString());
    expect((await c.call('GET', `/api/v1/components/${cdn}`, { token: commander })).json().status).toBe('operational');

    const illegal = await c.call('POST', `/api/v1/incidents/${incident.id}/updates`, {
      token: commander,
      body: { status: 'investigating', message: 'It is back' },
    });
    expect(illegal.statusCode).toBe(409);
    expect(illegal.json().error).toMatchObject({
      code: 'illegal_transition',
      details: { from: 'resolved', to: 'investigating' },
    });
    expect(illegal.json().error.message).toMatch(/declare a new incident/);

    // The playbook's checklist entries (src/playbook) are left out: this test is about the incident's own facts.
    const timeline = (await c.call('GET', `/api/v1/incidents/${incident.id}/timeline`, { token: commander }))
      .json()
      .events.filter((e: { type: string }) => !e.type.startsWith('playbook.'));
    expect(timeline.map((e: { type: string }) => e.type)).toEqual([
      'incident.declared',
      'update.published',
      'update.published',
      'update.published',
    ]);
    expect(timeline.every((e: { actor: { name: string } }) => e.actor.name === 'test commander')).toBe(true);
    expect(timeline[1].data).toMatchObject({
      status: 'identified',
      previous_status: 'investigating',
      message: 'Our CDN provider has an outage in Europe.',
    });
  });

  test('a component down in two incidents stays down until both are resolved', async () => {
    const c = ctx();
    const one = (
      await c.call('POST', '/api/v1/incidents', {
        token: commander,
        body: { name: 'A', message: 'a', components: [{ id: api, status: 'major_outage' }] },
      })
    ).json();
    const two = (
      await c.call('POST', '/api/v1/incidents', {
        token: commander,
        body: { name: 'B', message: 'b', components: [{ id: api, status: 'partial_outage' }] },
      })
    ).json();
    await c.call('POST', `/api/v1/incidents/${one.id}/updates`, {
      token: commander,
      body: { status: 'resolved', message: 'fixed' },
    });
    expect((await c.call('GET', `/api/v1/components/${api}`, { token: commander })).json().status).toBe('partial_outage');
    await c.call('POST', `/api/v1/incidents/${two.id}/updates`, {
      token: commander,
      body: { status: 'resolved', message: 'fixed' },
    });
    expect((await c.call('GET', `/api/v1/components/${api}`, { token: commander })).json().status).toBe('operational');
  });

  test('unknown components are refused with 422 naming them and nothing is half-written', async () => {
    const c = ctx();
    const before = (await c.call('GET', '/api/v1/incidents?limit=500', { token: commander })).json().incidents.length;
    const res = await c.call('POST', '/api/v1/incidents', {
      token: commander,
      body: {
        name: 'Bad',
        message: 'x',
        components: [
          { id: cdn, status: 'major_outage' },
          { id: 'no-such-component', status: 'major_outage' },
        ],
      },
    });
    expect(res.statusCode).toBe(422);
    expect(res.json().error).toMatchObject({
      code: 'unknown_component',
      details: [{ field: 'components.1.id', id: 'no-such-component' }],
    });
    expect((await c.call('GET', '/api/v1/incidents?limit=500', { token: commander })).json().incidents.length).toBe(before);
    expect((await c.call('GET', `/api/v1/components/${cdn}`, { token: commander })).json().status).toBe('operational');
  });

  test('declaring as resolved is refused; commanders must be able to command', async () => {
    const c = ctx();
    const resolved = await c.call('POST', '/api/v1/incidents', { token: commander, body: { name: 'X', status: 'resolved' } });
    expect(resolved.statusCode).toBe(422);
    expect(resolved.json().error.code).toBe('invalid_status');
    await c.services.auth.createUser(
      { type: 'system', id: null, name: 't', role: 'admin', ip: null },
      {
        email: 'rep@example.test',
        role: 'sales',
        password: 'long-enough-password',
      },
    );
    const bad = await c.call('POST', '/api/v1/incidents', {
      token: commander,
      body: { name: 'X', commander: 'rep@example.test' },
    });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().error).toMatchObject({ code: 'not_a_commander', details: { field: 'commander' } });
  });

  test('internal notes stay off the public API', async () => {
    const c = ctx();
    const inc = (
      await c.call('POST', '/api/v1/incidents', { token: commander, body: { name: 'Notes', message: 'public words' } })
    ).json();
    const note = await c.call('POST', `/api/v1/incidents/${inc.id}/notes`, {
      token: await c.token('sales'),
      body: { message: 'Called ACME, they are fine' },
    });
    expect(note.statusCode).toBe(201);
    expect(note.json()).toMatchObject({ type: 'note.added', public: false, actor: { name: 'test sales' } });
    const published = (await c.call('GET', '/api/v2/incidents.json'))
      .json()
      .incidents.find((i: { id: string }) => i.id === inc.id);
    expect(published.incident_updates.map((u: { body: string }) => u.body)).toEqual(['public words']);
  });
});
