import { mkdtemp, readFile, readlink, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createTestContext, TEST_ACTOR, type TestContext } from '../../../test/harness/context.js';
import { describeEachDialect } from '../../../test/harness/databases.js';
import { S3RVER_CREDENTIALS, type S3StandIn, startS3StandIn } from '../../../test/harness/s3rver.js';
import { MINUTE, SECOND } from '../../core/clock.js';
import { listJobs } from '../../db/jobs/jobs.repo.js';
import type { IncidentStatus } from '../../incidents/incident.js';
import { readPublicRevision } from '../../incidents/statuspage.repo.js';
import { acquireLease, findPublication, recordPublished, releaseLease } from './publications.repo.js';
import { PUBLISH_TARGET_JOB } from './trigger.js';

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function declare(c: TestContext, name: string, message: string): Promise<{ id: string; componentId: string }> {
  const token = await c.token('commander');
  const component = await c.call('POST', '/api/v1/components', { token, body: { name: `Showroom CDN ${name}`, kind: 'cdn' } });
  expect(component.statusCode).toBe(201);
  const res = await c.call('POST', '/api/v1/incidents', {
    token,
    body: { name, message, components: [{ id: component.json().id, status: 'major_outage' }] },
  });
  expect(res.statusCode).toBe(201);
  return { id: res.json().id, componentId: component.json().id };
}

async function postUpdate(c: TestContext, id: string, message: string, status: IncidentStatus = 'identified'): Promise<void> {
  await c.services.incidents.postUpdate(TEST_ACTOR, id, { status, message });
}

describeEachDialect('status site publishing', (dialect) => {
  let c: TestContext;
  let s3: S3StandIn;
  let root: string;
  let site: string;

  beforeAll(async () => {
    s3 = await startS3StandIn();
    root = await mkdtemp(join(tmpdir(), 'keepwarm-publish-'));
    site = join(root, 'site');
    c = await createTestContext(dialect, {
      config: {
        'status.pageName': 'Acme <Showroom> status',
        'status.fallbackUrl': 'https://mirror.example.test/',
        'status.targets': [
          { type: 'folder', name: 'site', path: site },
          {
            type: 's3',
            name: 'bucket',
            bucket: s3.bucket,
            prefix: 'public',
            endpoint: s3.endpoint,
            forcePathStyle: true,
            ...S3RVER_CREDENTIALS,
          },
        ],
      },
    });
  });
  afterAll(async () => {
    c?.services.statusPublisher.close();
    await c?.close();
    await s3?.stop();
    await rm(root, { recursive: true, force: true });
  });

  test('declaring publishes the page, feeds, JSON and banner to the folder and to S3', async () => {
    const { id } = await declare(c, 'Images & 3D viewer down', 'We are looking into missing product images.');
    await c.worker.pump();

    const html = await readFile(join(site, 'index.html'), 'utf8');
    expect(html).toContain('Images &amp; 3D viewer down');
    expect(html).toContain('We are looking into missing product images.');
    expect(html).toContain('Acme &lt;Showroom&gt; status');
    const summary = JSON.parse(await readFile(join(site, 'api/v2/summary.json'), 'utf8'));
    expect(summary.incidents.map((i: { id: string }) => i.id)).toEqual([id]);
    expect(summary.status.indicator).toBe('critical');
    const banner = JSON.parse(await readFile(join(site, 'banner.json'), 'utf8'));
    expect(banner).toMatchObject({
      active: true,
      fallback_url: 'https://mirror.example.test/',
      status_url: 'https://status.example.test/status',
    });
    expect(await readFile(join(site, 'feed.atom'), 'utf8')).toContain('We are looking into missing product images.');
    expect(await readFile(join(site, 'feed.rss'), 'utf8')).toContain('<rss version="2.0"');
    expect(await readFile(join(site, 'status.css'), 'utf8')).toContain('.bars');
    // The folder is a symlink to a complete version.
    expect(await readlink(site)).toMatch(/^\.site\.versions\//);

    const page = await s3.get('public/index.html');
    expect(page.body).toContain('Images &amp; 3D viewer down');
    expect(page.contentType).toBe('text/html; charset=utf-8');
    expect(page.cacheControl).toMatch(/max-age=10.*stale-if-error=86400/);
    const json = await s3.get('public/api/v2/summary.json');
    expect(json.contentType).toBe('application/json; charset=utf-8');
    expect(JSON.parse(json.body).incidents[0].id).toBe(id);
    expect((await s3.get('public/feed.atom')).contentType).toBe('application/atom+xml; charset=utf-8');
    expect((await s3.get('public/feed.rss')).contentType).toBe('application/rss+xml; charset=utf-8');
    expect((await s3.get('public/banner.json')).body).toContain('"active":true');
    const css = await s3.get('public/status.css');
    expect(css.contentType).toBe('text/css; charset=utf-8');
    expect(css.cacheControl).toMatch(/max-age=3600/);
  });

  test('the publications API shows what each target received, to admin, commander and viewer only', async () => {
    const res = await c.call('GET', '/api/v1/status/publications', { token: await c.token('viewer') });
    expect(res.statusCode).toBe(200);
    const current = await readPublicRevision(c.db.kysely);
    const list = res.json().publications;
    expect(list.map((p: { target: string }) => p.target)).toEqual(['site', 'bucket']);
    for (const p of list) {
      expect(p).toMatchObject({ revision: current, current: true, error: null, files: 11, publishing: false });
      expect(p.duration_ms).toBeGreaterThanOrEqual(0);
    }
    expect((await c.call('GET', '/api/v1/status/publications', { token: await c.token('marketing') })).statusCode).toBe(403);
    expect((await c.call('GET', '/api/v1/status/publications')).statusCode).toBe(401);
  });

  test('the live routes serve the same page and feeds with ETag, caching and a strict CSP', async () => {
    const page = await c.call('GET', '/status');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['cache-control']).toMatch(/max-age=10/);
    expect(String(page.headers['content-security-policy'])).toContain("default-src 'none'");
    expect(page.body).toContain('Images &amp; 3D viewer down');
    expect(page.body).toContain('href="/status/status.css"');
    const again = await c.call('GET', '/status', { headers: { 'if-none-match': String(page.headers.etag) } });
    expect(again.statusCode).toBe(304);
    const atom = await c.call('GET', '/status/feed.atom');
    expect(atom.headers['content-type']).toBe('application/atom+xml; charset=utf-8');
    expect(atom.body).toContain('missing product images');
    expect((await c.call('GET', '/status/feed.rss')).headers['content-type']).toBe('application/rss+xml; charset=utf-8');
    expect((await c.call('GET', '/status/status.css')).headers['content-type']).toBe('text/css; charset=utf-8');
  });

  test('a reader never sees a missing or partial file while 20 publishes swap the folder', async () => {
    const { id } = await declare(c, 'Checkout slow', 'Checkout is slow for some buyers.');
    await c.worker.pump();
    let stop = false;
    let reads = 0;
    const problems: string[] = [];
    const reader = (async () => {
      while (!stop) {
        try {
          const html = await readFile(join(site, 'index.html'), 'utf8');
          if (!html.trimEnd().endsWith('</html>')) problems.push('partial index.html');
          JSON.parse(await readFile(join(site, 'api/v2/summary.json'), 'utf8'));
          JSON.parse(await readFile(join(site, 'banner.json'), 'utf8'));
          reads += 1;
        } catch (err) {
          problems.push(String(err));
        }
      }
    })();
    for (let i = 1; i <= 20; i++) {
      c.clock.advance(MINUTE);
      await postUpdate(c, id, `Update number ${i}`);
      await c.worker.pump();
    }
    stop = true;
    await reader;
    expect(problems).toEqual([]);
    expect(reads).toBeGreaterThan(20);
    expect(await readFile(join(site, 'index.html'), 'utf8')).toContain('Update number 20');
    expect(JSON.parse((await s3.get('public/api/v2/summary.json')).body).incidents[0].incident_updates[0].body).toBe(
      'Update number 20',
    );
    // Old versions are cleaned: the live one and a few before it remain.
    const { readdir } = await import('node:fs/promises');
    expect((await readdir(join(root, '.site.versions'))).length).toBeLessThanOrEqual(4);
  });

  test('a held lease postpones the publish; an older revision never overwrites a newer one', async () => {
    const { id } = await declare(c, 'Sign-in failing', 'Buyers cannot sign in.');
    const now = c.clock.now();
    expect(await acquireLease(c.db.kysely, 'site', 'someone-else', now, now + 30 * SECOND)).toBe(true);
    await c.worker.pump();
    // The folder waits for the lease; S3 went ahead.
    expect(await readFile(join(site, 'index.html'), 'utf8')).not.toContain('Sign-in failing');
    expect((await s3.get('public/index.html')).body).toContain('Sign-in failing');
    const waiting = (await listJobs(c.db.kysely, { state: 'queued' })).filter((j) => j.kind === PUBLISH_TARGET_JOB);
    expect(waiting.length).toBeGreaterThan(0);
    await releaseLease(c.db.kysely, 'site', 'someone-else');
    c.clock.advance(SECOND);
    await c.worker.pump();
    expect(await readFile(join(site, 'index.html'), 'utf8')).toContain('Sign-in failing');

    const published = await findPublication(c.db.kysely, 'site');
    expect(await acquireLease(c.db.kysely, 'site', 'slow-worker', c.clock.now(), c.clock.now() + MINUTE)).toBe(true);
    const older = await recordPublished(c.db.kysely, 'site', 'slow-worker', {
      revision: '00000000-0000-7000-8000-000000000000',
      at: c.clock.now(),
      durationMs: 1,
      files: 11,
    });
    expect(older).toBe(false);
    expect((await findPublication(c.db.kysely, 'site'))?.revision).toBe(published?.revision);
    await releaseLease(c.db.kysely, 'site', 'slow-worker');
    await postUpdate(c, id, 'Sign-in is back for most buyers', 'monitoring');
    await c.worker.pump();
  });
});

describeEachDialect('status publishing: a failing target', (dialect) => {
  let c: TestContext;
  let root: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'keepwarm-publish-'));
    c = await createTestContext(dialect, {
      config: {
        'status.targets': [
          {
            type: 's3',
            name: 'down',
            bucket: 'status',
            endpoint: `http://127.0.0.1:${await closedPort()}`,
            forcePathStyle: true,
            ...S3RVER_CREDENTIALS,
          },
          { type: 'folder', name: 'site', path: join(root, 'site') },
        ],
      },
    });
  });
  afterAll(async () => {
    c?.services.statusPublisher.close();
    await c?.close();
    await rm(root, { recursive: true, force: true });
  });

  test('does not hold back the others, retries with backoff and shows its error', async () => {
    await declare(c, 'API errors', 'Product data is failing to load.');
    await c.worker.pump();
    expect(await readFile(join(root, 'site', 'index.html'), 'utf8')).toContain('API errors');

    const res = await c.call('GET', '/api/v1/status/publications', { token: await c.token('admin') });
    const byName = new Map(res.json().publications.map((p: { target: string }) => [p.target, p]));
    expect(byName.get('site')).toMatchObject({ current: true, error: null });
    expect(byName.get('down')).toMatchObject({ current: false, revision: null, published_at: null });
    expect(String((byName.get('down') as { error: string }).error)).toMatch(/ECONNREFUSED|connect/i);

    const queued = async () =>
      (await listJobs(c.db.kysely, { state: 'queued', kind: PUBLISH_TARGET_JOB })).map((j) => ({
        target: (j.payload as { target: string }).target,
        attempts: j.attempts,
        runAt: j.runAt,
      }));
    // One job per change for the broken target: one failed (an attempt, backoff), the others
    // found its lease and wait without spending attempts. None is due now.
    const retry = (await queued()).filter((j) => j.target === 'down');
    expect(retry.some((j) => j.attempts === 1)).toBe(true);
    for (const j of retry) expect(j.runAt).toBeGreaterThan(c.clock.now());
    const attempts = (jobs: typeof retry) => jobs.reduce((n, j) => n + j.attempts, 0);
    // They come back after the backoff and fail again (still down), counted.
    c.clock.advance(MINUTE);
    await c.worker.pump();
    const again = (await queued()).filter((j) => j.target === 'down');
    expect(again.length).toBe(retry.length);
    expect(attempts(again)).toBeGreaterThan(attempts(retry));
  });
});
