import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createTestContext, TEST_ACTOR, type TestContext } from '../../../test/harness/context.js';
import { DIALECTS } from '../../../test/harness/databases.js';
import { describeNeeding, postgresMissing } from '../../../test/harness/env.js';
import { type NginxServer, nginxMissing, startNginx } from '../../../test/harness/nginx.js';
import { MINUTE } from '../../core/clock.js';

/**
 * The promise of the static targets: with Keepwarm stopped, a plain web server keeps telling
 * buyers the truth. Publish to a folder, stop Keepwarm, serve the folder with real nginx.
 */
for (const dialect of DIALECTS) {
  const missing = nginxMissing ?? (dialect === 'postgres' ? postgresMissing : null);
  describeNeeding(
    nginxMissing ? 'nginx' : 'PostgreSQL',
    missing,
    `status site served by nginx with Keepwarm stopped [${dialect}]`,
    () => {
      let c: TestContext | undefined;
      let nginx: NginxServer | undefined;
      let root: string;
      let liveUrl: string;
      let incidentId: string;

      beforeAll(async () => {
        root = await mkdtemp(join(tmpdir(), 'keepwarm-static-'));
        await chmod(root, 0o755); // nginx workers may run as another user
        const ctx = await createTestContext(dialect, {
          config: {
            'status.pageName': 'Acme showroom',
            'status.targets': [{ type: 'folder', name: 'site', path: join(root, 'site') }],
          },
        });
        c = ctx;
        const component = await ctx.services.components.create(TEST_ACTOR, { name: 'Product images', kind: 'cdn' });
        const detail = await ctx.services.incidents.declare(TEST_ACTOR, {
          name: 'Product images <not loading>',
          message: 'Images on product pages fail to load; we are on it.',
          components: [{ id: component.id, status: 'partial_outage' }],
        });
        incidentId = detail.incident.id;
        ctx.clock.advance(10 * MINUTE);
        await ctx.services.incidents.postUpdate(TEST_ACTOR, incidentId, {
          status: 'identified',
          message: 'A bad CDN rule; rolling it back.',
        });
        await ctx.worker.pump();
        liveUrl = await ctx.app.listen({ host: '127.0.0.1', port: 0 });
        expect((await fetch(`${liveUrl}/status`)).status).toBe(200);
        // Keepwarm stops: the web server, the worker, the database.
        await ctx.close();
        c = undefined;
        nginx = await startNginx(join(root, 'site'));
      });
      afterAll(async () => {
        await nginx?.stop();
        await c?.close();
        await rm(root, { recursive: true, force: true });
      });

      test('Keepwarm is gone', async () => {
        await expect(fetch(`${liveUrl}/status`)).rejects.toThrow();
      });

      test('the page shows the incident with its updates, newest first', async () => {
        const res = await fetch(`${nginx?.url}/`);
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
        const html = await res.text();
        expect(html).toContain('Product images &lt;not loading&gt;');
        expect(html.indexOf('A bad CDN rule')).toBeLessThan(html.indexOf('Images on product pages fail to load'));
        expect(html).toContain('Partial outage');
        const css = await fetch(`${nginx?.url}/status.css`);
        expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
      });

      test('the Statuspage JSON and banner are served as JSON', async () => {
        const summary = await fetch(`${nginx?.url}/api/v2/summary.json`);
        expect(summary.headers.get('content-type')).toBe('application/json; charset=utf-8');
        const body = (await summary.json()) as {
          page: { name: string };
          incidents: Array<{ incident_updates: Array<{ body: string }> }>;
        };
        expect(body.page.name).toBe('Acme showroom');
        expect(body.incidents[0]).toMatchObject({ id: incidentId, status: 'identified' });
        expect(body.incidents[0]?.incident_updates[0]?.body).toBe('A bad CDN rule; rolling it back.');
        const unresolved = (await (await fetch(`${nginx?.url}/api/v2/incidents/unresolved.json`)).json()) as {
          incidents: unknown[];
        };
        expect(unresolved.incidents).toHaveLength(1);
        const banner = await fetch(`${nginx?.url}/banner.json`);
        expect(banner.headers.get('content-type')).toBe('application/json; charset=utf-8');
        expect(await banner.json()).toMatchObject({ active: true, message: 'A bad CDN rule; rolling it back.' });
      });

      test('the feeds are served with their types and carry both updates', async () => {
        const atom = await fetch(`${nginx?.url}/feed.atom`);
        expect(atom.headers.get('content-type')).toBe('application/atom+xml; charset=utf-8');
        const atomText = await atom.text();
        expect(atomText.match(/<entry>/g)).toHaveLength(2);
        expect(atomText).toContain('Product images &lt;not loading&gt;: Identified');
        const rss = await fetch(`${nginx?.url}/feed.rss`);
        expect(rss.headers.get('content-type')).toBe('application/rss+xml; charset=utf-8');
        expect((await rss.text()).match(/<item>/g)).toHaveLength(2);
      });
    },
  );
}
