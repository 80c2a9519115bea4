import { expect, test } from 'vitest';
import { TEST_ACTOR, useTestContext } from '../../../test/harness/context.js';
import { describeEachDialect } from '../../../test/harness/databases.js';

describeEachDialect('kill switches: automatic during incidents, OFREP, override', (dialect) => {
  const ctx = useTestContext(dialect);

  const configurator = async () => {
    const res = await ctx().call('POST', '/ofrep/v1/evaluate/flags/showroom.configurator', { body: { context: {} } });
    expect(res.statusCode).toBe(200);
    return res.json() as { key: string; value: unknown; reason: string; variant: string; metadata: Record<string, unknown> };
  };

  test('the configurator switches off while an API incident is open and back on when it resolves', async () => {
    const { services } = ctx();
    const api = await services.components.create(TEST_ACTOR, { name: 'Showroom API', kind: 'api' });
    const cdn = await services.components.create(TEST_ACTOR, { name: 'CDN', kind: 'cdn' });

    expect(await configurator()).toMatchObject({
      key: 'showroom.configurator',
      value: true,
      reason: 'DEFAULT',
      variant: 'default',
    });

    // A CDN incident does not touch the configurator; a drill on the API does not either.
    const cdnIncident = await services.incidents.declare(TEST_ACTOR, {
      name: 'CDN errors',
      components: [{ id: cdn.id, status: 'major_outage' }],
    });
    await services.incidents.declare(TEST_ACTOR, {
      name: 'Drill',
      drill: true,
      components: [{ id: api.id, status: 'major_outage' }],
    });
    expect((await configurator()).value).toBe(true);

    const apiIncident = await services.incidents.declare(TEST_ACTOR, {
      name: 'API timeouts',
      components: [{ id: api.id, status: 'partial_outage' }],
    });
    const during = await configurator();
    expect(during).toMatchObject({ value: false, reason: 'TARGETING_MATCH', variant: 'rule-1' });
    expect(during.metadata.incidentId).toBe(apiIncident.incident.id);

    // flags.json says the same thing.
    const file = await ctx().call('GET', '/flags.json');
    const flags = (file.json() as { flags: Array<{ key: string; value: unknown }> }).flags;
    expect(flags.find((f) => f.key === 'showroom.configurator')?.value).toBe(false);
    expect(flags.find((f) => f.key === 'showroom.fallback_banner')?.value).toBe(true);

    await services.incidents.postUpdate(TEST_ACTOR, apiIncident.incident.id, {
      status: 'resolved',
      message: 'Fixed.',
      components: [{ id: api.id, status: 'operational' }],
    });
    expect(await configurator()).toMatchObject({ value: true, reason: 'DEFAULT' });
    expect(cdnIncident.incident.status).toBe('investigating'); // still open, yet the configurator is back
  });

  test('OFREP bulk: every flag, ETag then 304; unknown flag and bad context are OFREP errors', async () => {
    const bulk = await ctx().call('POST', '/ofrep/v1/evaluate/flags', { body: { context: { targetingKey: 'x' } } });
    expect(bulk.statusCode).toBe(200);
    const keys = (bulk.json() as { flags: Array<{ key: string; reason: string }> }).flags.map((f) => f.key);
    expect(keys).toContain('showroom.configurator');
    const etag = bulk.headers.etag as string;
    expect(etag).toMatch(/^".+"$/);
    const again = await ctx().call('POST', '/ofrep/v1/evaluate/flags', { body: {}, headers: { 'if-none-match': etag } });
    expect(again.statusCode).toBe(304);

    const missing = await ctx().call('POST', '/ofrep/v1/evaluate/flags/no.such.flag', { body: {} });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ key: 'no.such.flag', errorCode: 'FLAG_NOT_FOUND' });

    const bad = await ctx().call('POST', '/ofrep/v1/evaluate/flags/showroom.configurator', { body: { context: 'nope' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ errorCode: 'INVALID_CONTEXT' });
  });

  test('a manual override wins over the rules, is audited, and clears', async () => {
    const token = await ctx().token('admin');
    const set = await ctx().call('PUT', '/api/v1/flags/showroom.configurator/override', {
      token,
      body: { value: false, reason: 'vendor maintenance' },
    });
    expect(set.statusCode).toBe(200);
    expect(await configurator()).toMatchObject({ value: false, reason: 'STATIC', variant: 'override' });
    const audit = await ctx()
      .db.kysely.selectFrom('audit_log')
      .select(['action', 'target_id'])
      .where('action', 'like', 'flag.%')
      .execute();
    expect(audit).toEqual([{ action: 'flag.override_set', target_id: 'showroom.configurator' }]);

    const noReason = await ctx().call('PUT', '/api/v1/flags/showroom.configurator/override', { token, body: { value: true } });
    expect(noReason.statusCode).toBe(400);
    expect(JSON.stringify(noReason.json())).toContain('reason');

    const viewer = await ctx().call('PUT', '/api/v1/flags/showroom.configurator/override', {
      token: await ctx().token('viewer'),
      body: { value: true, reason: 'x' },
    });
    expect(viewer.statusCode).toBe(403);

    await ctx().call('PUT', '/api/v1/flags/showroom.configurator/override', { token, body: { value: null, reason: 'done' } });
    expect(await configurator()).toMatchObject({ value: true, reason: 'DEFAULT' });
  });
});
