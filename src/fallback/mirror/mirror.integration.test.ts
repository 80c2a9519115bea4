import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createTestContext, TEST_ACTOR, type TestContext } from '../../../test/harness/context.js';
import { describeEachDialect } from '../../../test/harness/databases.js';
import { productPage } from './paths.js';

const CATALOG =
  'sku,name,category,price\nCH-100,Task chair,chairs,120 EUR\nCH-200,Lounge chair,chairs,340 EUR\nDK-220,Standing desk,desks,480 EUR\n';

describeEachDialect('fallback mirror', (dialect) => {
  let c: TestContext;
  let dir: string;
  let live: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keepwarm-mirror-it-'));
    await chmod(dir, 0o755);
    live = join(dir, 'www', 'catalog');
    c = await createTestContext(dialect, {
      config: {
        dataDir: join(dir, 'data'),
        'fallback.targets': [{ type: 'folder', name: 'www', path: live }],
        'fallback.mirrorUrl': 'https://mirror.northwind.example',
        'fallback.salesEmail': 'sales@northwind.example',
      },
    });
  }, 60_000);

  afterAll(async () => {
    await c?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const pump = async (times = 3) => {
    for (let i = 0; i < times; i++) await c.worker.pump();
  };
  const builds = async () => {
    const res = await c.call('GET', '/api/v1/fallback/builds', { token: await c.token('viewer') });
    expect(res.statusCode).toBe(200);
    return (res.json() as { builds: Array<Record<string, unknown> & { publications: Array<Record<string, unknown>> }> }).builds;
  };

  test('a catalog import rebuilds and publishes the mirror, incrementally the second time', async () => {
    const first = await c.services.catalog.import(CATALOG, { file: 'catalog.csv' });
    expect(first.applied).toBe(true);
    await pump();
    const [built] = await builds();
    expect(built).toMatchObject({ trigger: 'catalog', full: true, error: null });
    expect(built?.publications).toEqual([expect.objectContaining({ target: 'www', error: null })]);
    const page = await readFile(join(live, productPage('DK-220')), 'utf8');
    expect(page).toContain('Standing desk');
    expect(page).toContain('480');

    const second = await c.services.catalog.import(CATALOG.replace('480 EUR', '455 EUR'), { file: 'catalog.csv' });
    expect(second.applied).toBe(true);
    await pump();
    const [latest, previous] = await builds();
    expect(previous?.id).toBe(built?.id);
    expect(latest).toMatchObject({ trigger: 'catalog', full: false });
    expect(Number(latest?.rendered)).toBeGreaterThan(0);
    expect(Number(latest?.rendered)).toBeLessThan(Number(latest?.files) / 2);
    expect(await readFile(join(live, productPage('DK-220')), 'utf8')).toContain('455');
    // Importing the same content again creates no snapshot, so no build.
    await c.services.catalog.import(CATALOG.replace('480 EUR', '455 EUR'), { file: 'catalog.csv' });
    await pump();
    expect(await builds()).toHaveLength(2);
  });

  test('people can rebuild from the API and the console; viewers cannot', async () => {
    const denied = await c.call('POST', '/api/v1/fallback/builds', { token: await c.token('viewer'), body: {} });
    expect(denied.statusCode).toBe(403);
    const bad = await c.call('POST', '/api/v1/fallback/builds', { token: await c.token('admin'), body: { full: 'yes' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('full');
    const queued = await c.call('POST', '/api/v1/fallback/builds', { token: await c.token('admin'), body: { full: true } });
    expect(queued.statusCode).toBe(202);
    await pump();
    const [manual] = await builds();
    expect(manual).toMatchObject({ trigger: 'manual', full: true });
    const page = await c.call('GET', '/console/fallback', { token: await c.token('marketing') });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Build and publish now');
    expect(page.body).toContain('showroom.configurator');
    expect(page.body).toMatch(/www: \d+ written and verified/);
  });

  test('flags.json beside the mirror follows the incidents', async () => {
    const flagsNow = async () =>
      (
        JSON.parse(await readFile(join(live, 'flags.json'), 'utf8')) as { flags: Array<{ key: string; value: unknown }> }
      ).flags.find((f) => f.key === 'showroom.configurator')?.value;
    expect(await flagsNow()).toBe(true);
    const api = await c.services.components.create(TEST_ACTOR, { name: 'Showroom API', kind: 'api' });
    const declared = await c.services.incidents.declare(TEST_ACTOR, {
      name: 'API timeouts',
      components: [{ id: api.id, status: 'major_outage' }],
    });
    await pump();
    expect(await flagsNow()).toBe(false);
    await c.services.incidents.postUpdate(TEST_ACTOR, declared.incident.id, { status: 'resolved', message: 'Fixed.' });
    await pump();
    expect(await flagsNow()).toBe(true);
  });
});
