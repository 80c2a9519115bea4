import { connect } from 'node:net';
import { describe, expect, test } from 'vitest';
import { createTestContext, useTestContext } from '../../test/harness/context.js';
import { describeEachDialect } from '../../test/harness/databases.js';
import { buildApp } from './build-app.js';

describeEachDialect('HTTP edges: errors, limits, documentation, health', (dialect) => {
  const ctx = useTestContext(dialect);

  test('malformed JSON: 400 naming the path and where the JSON breaks', async () => {
    const c = ctx();
    const res = await c.app.inject({
      method: 'POST',
      url: '/api/v1/incidents?x=1',
      headers: { authorization: `Bearer ${await c.token('commander')}`, 'content-type': 'application/json' },
      payload: '{\n  "name": "CDN down",\n  "message": oops\n}',
    });
    expect(res.statusCode).toBe(400);
    const error = res.json().error;
    expect(error.code).toBe('malformed_json');
    expect(error.message).toContain('POST /api/v1/incidents');
    expect(error.message).toContain('line 3');
    expect(error.details).toMatchObject({ path: '/api/v1/incidents', line: 3 });
  });

  test('schema violations: 400 listing every field at fault', async () => {
    const c = ctx();
    const res = await c.call('POST', '/api/v1/incidents', {
      token: await c.token('commander'),
      body: { name: '', status: 'on fire', components: [{ id: 'x', status: 'broken' }], surprise: 1 },
    });
    expect(res.statusCode).toBe(400);
    const fields = res.json().error.details.map((d: { field: string }) => d.field);
    expect(fields).toEqual(expect.arrayContaining(['name', 'status', 'components.0.status', '(root)']));
    expect(res.json().error.details.find((d: { field: string }) => d.field === '(root)').message).toContain('surprise');
  });

  test('bodies over 1 MiB: 413; other content types: 415; unknown routes: 404 in the same shape', async () => {
    const c = ctx();
    const token = await c.token('commander');
    const big = await c.call('POST', '/api/v1/incidents', { token, body: { name: 'x', message: 'y'.repeat(1024 * 1024) } });
    expect(big.statusCode).toBe(413);
    expect(big.json().error.code).toBe('payload_too_large');
    const xml = await c.app.inject({
      method: 'POST',
      url: '/api/v1/incidents',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/xml' },
      payload: '<incident/>',
    });
    expect(xml.statusCode).toBe(415);
    expect(xml.json().error.code).toBe('unsupported_media_type');
    const missing = await c.call('GET', '/api/v1/nothing-here');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error).toMatchObject({ code: 'route_not_found', message: 'There is no GET /api/v1/nothing-here.' });
    expect((await c.call('GET', '/api/v1/incidents/does-not-exist', { token })).json().error.code).toBe('not_found');
    const badUrl = await c.call('GET', '/u/%E0%A4%A');
    expect(badUrl.statusCode).toBe(400);
    expect(badUrl.json().error.code).toBe('bad_url');
  });

  test('bad input never produces a 500, on any documented route', async () => {
    const c = ctx();
    const built = await buildApp({ config: c.config, db: c.db, clock: c.clock, log: c.services.log, services: c.services });
    const admin = await c.token('admin');
    const garbage: unknown[] = [
      [],
      'text',
      42,
      null,
      { name: 7, components: 'all', status: ['x'] },
      { id: { $ne: 1 } },
      { __proto__: { admin: true } },
    ];
    const failures: string[] = [];
    for (const route of built.openapi.routes) {
      if (route.method === 'GET' || route.access === 'public') continue;
      const url = route.url.replace(/:[A-Za-z]+/g, 'no-such-id');
      for (const body of garbage) {
        const res = await c.app.inject({
          method: route.method as 'POST',
          url,
          headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
          payload: JSON.stringify(body),
        });
        if (res.statusCode >= 500)
          failures.push(`${route.method} ${route.url} ${JSON.stringify(body)} → ${res.statusCode} ${res.body}`);
      }
    }
    await built.app.close();
    expect(failures).toEqual([]);
  });

  test('/api/openapi.json describes every route Fastify serves', async () => {
    const c = ctx();
    const built = await buildApp({ config: c.config, db: c.db, clock: c.clock, log: c.services.log, services: c.services });
    const doc = (await c.call('GET', '/api/openapi.json')).json();
    expect(doc.openapi).toBe('3.1.0');
    const undocumented = built.routes
      .filter((r) => r.method !== 'HEAD')
      .filter((r) => {
        const path = r.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
        return !doc.paths[path]?.[r.method.toLowerCase()];
      })
      .map((r) => `${r.method} ${r.url}`);
    await built.app.close();
    expect(undocumented).toEqual([]);
    expect(doc.paths['/api/v1/incidents'].post.requestBody.content['application/json'].schema.properties.name).toBeDefined();
    expect(doc.paths['/api/v1/incidents/{id}/updates'].post['x-keepwarm-roles']).toEqual(['admin', 'commander', 'marketing']);
  });

  test('health, readiness and Prometheus metrics', async () => {
    const c = ctx();
    expect((await c.call('GET', '/healthz')).json()).toEqual({ status: 'ok' });
    expect((await c.call('GET', '/readyz')).json()).toEqual({ status: 'ready', database: dialect });
    await c.call('GET', '/api/v2/status.json');
    await c.call('GET', '/api/v2/status.json');
    await c.call('GET', '/healthz');
    const metrics = await c.call('GET', '/metrics');
    expect(metrics.headers['content-type']).toContain('text/plain');
    expect(metrics.body).toMatch(/keepwarm_status_documents_served_total\{document="status.json"\} 2\n/);
    expect(metrics.body).toMatch(/keepwarm_http_requests_total\{method="GET",route="\/healthz",status="200"\} \d+/);
    expect(metrics.body).toContain('keepwarm_process_cpu_seconds_total');
  });
});

describe('HTTP connections', () => {
  test('a keep-alive connection idle for 6 s still answers its next request (Node would close it after 5 s)', async () => {
    const c = await createTestContext('sqlite');
    try {
      await c.app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = c.app.server.address() as { port: number };
      const socket = connect(port, '127.0.0.1');
      let received = '';
      let closed = false;
      socket.on('data', (chunk) => {
        received += chunk.toString();
      });
      socket.on('close', () => {
        closed = true;
      });
      const answers = () => received.split('HTTP/1.1 200').length - 1;
      const ask = () => socket.write('GET /healthz HTTP/1.1\r\nHost: keepwarm.test\r\nConnection: keep-alive\r\n\r\n');
      ask();
      await expect.poll(answers).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 6_000));
      expect(closed).toBe(false);
      ask();
      await expect.poll(answers).toBe(2);
      socket.destroy();
    } finally {
      await c.close();
    }
  }, 30_000);
});
