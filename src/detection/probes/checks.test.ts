import { execFileSync, spawnSync } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { describeNeeding } from '../../../test/harness/env.js';
import { dnsCheckSchema, httpCheckSchema, type MonitorSpec, tlsCheckSchema } from '../monitor.js';
import { runDnsCheck } from './dns-check.js';
import { valueAtPath } from './http-check.js';
import { describeNetworkError } from './outcome.js';
import { parseResolveOverrides } from './resolve.js';
import { ProbeRunner } from './runner.js';

const LOOPBACK = '127.0.0.1';

function listen(server: Server | UdpSocket | ReturnType<typeof createTlsServer>): Promise<number> {
  return new Promise((resolve) => {
    if ('send' in server) server.bind(0, LOOPBACK, () => resolve(server.address().port));
    else server.listen(0, LOOPBACK, () => resolve((server.address() as AddressInfo).port));
  });
}

function httpSpec(check: Record<string, unknown>, id = 'm1'): MonitorSpec {
  return { id, componentId: 'c1', name: id, intervalMs: 10_000, check: { type: 'http', check: httpCheckSchema.parse(check) } };
}

/** A free port with nothing listening: a server that bound it and closed. */
async function deadPort(): Promise<number> {
  const s = createServer();
  const port = await listen(s);
  await new Promise((r) => s.close(r));
  return port;
}

describe('HTTP checks against a real loopback origin', () => {
  let server: Server;
  let base: string;
  let port: number;
  let connections = 0;
  const runner = new ProbeRunner();

  beforeAll(async () => {
    server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const delay = Number(url.searchParams.get('delay') ?? 0);
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      switch (url.pathname) {
        case '/ok':
          res.end('all systems ok');
          return;
        case '/fail':
          res.writeHead(503).end('maintenance');
          return;
        case '/json':
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify({ status: { indicator: url.searchParams.get('indicator') ?? 'none' }, items: [{ up: true }] }));
          return;
        case '/redirect':
          res.writeHead(302, { location: '/ok' }).end();
          return;
        case '/loop':
          res.writeHead(301, { location: '/loop' }).end();
          return;
        case '/echo': {
          let body = '';
          for await (const chunk of req) body += chunk;
          res.end(`${req.method} ${req.headers['x-probe'] ?? '-'} ${body}`);
          return;
        }
        case '/big':
          res.write('x'.repeat(2 * 1024 * 1024));
          res.end('needle');
          return;
        default:
          res.writeHead(404).end();
      }
    });
    server.on('connection', () => connections++);
    port = await listen(server);
    base = `http://${LOOPBACK}:${port}`;
  });
  afterAll(async () => {
    await runner.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  test('up: 200 with the expected text; the result carries status and latency', async () => {
    const r = await runner.run(httpSpec({ url: `${base}/ok`, bodyContains: 'ok' }));
    expect(r).toMatchObject({ monitorId: 'm1', ok: true, degraded: false, statusCode: 200 });
    expect(r.error).toBeUndefined();
    expect(r.latencyMs).toBeGreaterThan(0);
    expect(r.latencyMs).toBeLessThan(1000);
  });

  test('5xx: failed with "HTTP 503"; an accepted range can allow it', async () => {
    expect(await runner.run(httpSpec({ url: `${base}/fail` }))).toMatchObject({ ok: false, error: 'HTTP 503', statusCode: 503 });
    expect(await runner.run(httpSpec({ url: `${base}/fail`, expectStatus: [200, 599] }))).toMatchObject({ ok: true });
  });

  test('down: connection refused', async () => {
    const r = await runner.run(httpSpec({ url: `http://${LOOPBACK}:${await deadPort()}/` }));
    expect(r).toMatchObject({ ok: false, error: 'connection refused' });
    expect(r.statusCode).toBeUndefined();
  });

  test('slow past the timeout: "timeout after N ms", measured close to N', async () => {
    const r = await runner.run(httpSpec({ url: `${base}/ok?delay=1500`, timeoutMs: 200 }));
    expect(r).toMatchObject({ ok: false, error: 'timeout after 200 ms' });
    expect(r.latencyMs).toBeGreaterThanOrEqual(195);
    expect(r.latencyMs).toBeLessThan(600);
  });

  test('slow but within the timeout: degraded past degradedMs', async () => {
    const r = await runner.run(httpSpec({ url: `${base}/ok?delay=150`, degradedMs: 50, timeoutMs: 2000 }));
    expect(r).toMatchObject({ ok: true, degraded: true });
    expect(r.error).toMatch(/^slow: \d+ ms \(over 50 ms\)$/);
    expect(await runner.run(httpSpec({ url: `${base}/ok`, degradedMs: 1000 }))).toMatchObject({ ok: true, degraded: false });
  });

  test('bad body: the expected text is missing', async () => {
    expect(await runner.run(httpSpec({ url: `${base}/ok`, bodyContains: 'healthy' }))).toMatchObject({
      ok: false,
      error: "body lacks 'healthy'",
      statusCode: 200,
    });
  });

  test('JSON path: equal passes, a different value fails naming both, a missing path and non-JSON fail', async () => {
    expect(await runner.run(httpSpec({ url: `${base}/json`, jsonPath: 'status.indicator', jsonEquals: 'none' }))).toMatchObject({
      ok: true,
    });
    expect(
      await runner.run(httpSpec({ url: `${base}/json?indicator=major`, jsonPath: 'status.indicator', jsonEquals: 'none' })),
    ).toMatchObject({ ok: false, error: 'JSON status.indicator is "major", expected "none"' });
    expect(await runner.run(httpSpec({ url: `${base}/json`, jsonPath: 'items.0.up', jsonEquals: true }))).toMatchObject({
      ok: true,
    });
    expect(await runner.run(httpSpec({ url: `${base}/json`, jsonPath: 'status.page' }))).toMatchObject({
      ok: false,
      error: 'JSON has no status.page',
    });
    expect(await runner.run(httpSpec({ url: `${base}/ok`, jsonPath: 'status' }))).toMatchObject({
      ok: false,
      error: 'body is not JSON',
    });
  });

  test('redirects: a 302 passes as is by default; followed on request, with a bound on loops', async () => {
    expect(await runner.run(httpSpec({ url: `${base}/redirect`, bodyContains: 'ok' }))).toMatchObject({
      ok: false,
      statusCode: 302,
    });
    expect(await runner.run(httpSpec({ url: `${base}/redirect`, expectStatus: [200, 399] }))).toMatchObject({ ok: true });
    expect(await runner.run(httpSpec({ url: `${base}/redirect`, followRedirects: true, bodyContains: 'ok' }))).toMatchObject({
      ok: true,
      statusCode: 200,
    });
    expect(await runner.run(httpSpec({ url: `${base}/loop`, followRedirects: true }))).toMatchObject({
      ok: false,
      error: 'more than 5 redirects',
    });
  });

  test('method, headers and body are sent', async () => {
    const r = await runner.run(
      httpSpec({
        url: `${base}/echo`,
        method: 'POST',
        headers: { 'x-probe': 'yes' },
        body: 'ping',
        bodyContains: 'POST yes ping',
      }),
    );
    expect(r).toMatchObject({ ok: true });
  });

  test('bodies are read up to 1 MiB', async () => {
    const r = await runner.run(httpSpec({ url: `${base}/big`, bodyContains: 'needle' }));
    expect(r).toMatchObject({ ok: false, error: "body lacks 'needle' (in its first 1 MiB)" });
  });

  test('connections are kept alive across checks', async () => {
    const local = new ProbeRunner();
    // undici's pool opens a second connection for a request sent right as the first one completes.
    await local.run(httpSpec({ url: `${base}/ok` }));
    await local.run(httpSpec({ url: `${base}/ok` }));
    const before = connections;
    for (let i = 0; i < 5; i++)
      expect(await local.run(httpSpec({ url: `${base}/ok`, bodyContains: 'ok' }))).toMatchObject({ ok: true });
    expect(connections - before).toBe(0);
    await local.close();
  });

  test('--resolve overrides: a name reaches the address given for its host and port; another address is refused', async () => {
    const reach = new ProbeRunner({ resolve: parseResolveOverrides([`shop.keepwarm.test:${port}:127.0.0.1`]) });
    const blocked = new ProbeRunner({ resolve: parseResolveOverrides([`shop.keepwarm.test:${port}:127.0.0.2`]) });
    const spec = httpSpec({ url: `http://shop.keepwarm.test:${port}/ok`, bodyContains: 'ok' });
    expect(await reach.run(spec)).toMatchObject({ ok: true });
    expect(await blocked.run(spec)).toMatchObject({ ok: false, error: 'connection refused' });
    await reach.close();
    await blocked.close();
  });

  test('--resolve entries are validated', () => {
    expect(parseResolveOverrides(['Shop.example:443:[::1]']).get('shop.example:443')).toBe('::1');
    expect(() => parseResolveOverrides(['shop.example:443'])).toThrow(/HOST:PORT:ADDRESS/);
    expect(() => parseResolveOverrides(['shop.example:443:not-an-ip'])).toThrow(/IP address/);
  });
});

describe('dot paths and error words', () => {
  test('valueAtPath', () => {
    const doc = { a: { b: [{ c: 1 }, { c: null }] } };
    expect(valueAtPath(doc, 'a.b.1.c')).toEqual({ present: true, value: null });
    expect(valueAtPath(doc, 'a.b[0].c')).toEqual({ present: true, value: 1 });
    expect(valueAtPath(doc, 'a.b.2.c')).toEqual({ present: false });
    expect(valueAtPath(doc, 'a.x')).toEqual({ present: false });
    expect(valueAtPath(doc, 'a.b.c')).toEqual({ present: false });
  });
  test('describeNetworkError unwraps causes', () => {
    const err = new TypeError('fetch failed', {
      cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
    });
    expect(describeNetworkError(err)).toBe('connection refused');
    expect(describeNetworkError(new Error('odd'))).toBe('odd');
  });
});

const opensslMissing = spawnSync('openssl', ['version']).status === 0 ? null : 'the openssl command is not installed';

describeNeeding('openssl', opensslMissing, 'TLS certificate checks against a real TLS server', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keepwarm-tls-'));
  let cert = '';
  let port = 0;
  let httpsPort = 0;
  const servers: Array<{ close(cb: () => void): void }> = [];
  const tls = (check: Record<string, unknown>): MonitorSpec => ({
    id: 't1',
    componentId: 'c1',
    name: 'tls',
    intervalMs: 60_000,
    check: { type: 'tls', check: tlsCheckSchema.parse(check) },
  });

  beforeAll(async () => {
    // A self-signed certificate for localhost, valid for 10 days.
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '10',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
    const key = readFileSync(join(dir, 'key.pem'), 'utf8');
    const tlsServer = createTlsServer({ cert, key }, (socket) => socket.end());
    port = await listen(tlsServer);
    const https = createHttpsServer({ cert, key }, (_req, res) => res.end('secure ok'));
    httpsPort = await listen(https as unknown as Server);
    servers.push(tlsServer, https);
  });
  afterAll(async () => {
    for (const s of servers) await new Promise<void>((r) => s.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  test('days left: ok above twice the minimum, degraded below it, failed below the minimum', async () => {
    const runner = new ProbeRunner({ ca: cert });
    expect(await runner.run(tls({ host: 'localhost', port, minDaysLeft: 3 }))).toMatchObject({ ok: true, degraded: false });
    const soon = await runner.run(tls({ host: 'localhost', port, minDaysLeft: 7 }));
    expect(soon).toMatchObject({ ok: true, degraded: true });
    expect(soon.error).toMatch(/^TLS: certificate expires in (9\.\d|10\.0) days$/);
    const failing = await runner.run(tls({ host: 'localhost', port, minDaysLeft: 30 }));
    expect(failing).toMatchObject({ ok: false });
    expect(failing.error).toMatch(/^TLS: certificate expires in (9\.\d|10\.0) days \(minimum 30\)$/);
    // The same certificate seen 11 days later: expired.
    const later = new ProbeRunner({ ca: cert, now: () => Date.now() + 11 * 86_400_000 });
    expect((await later.run(tls({ host: 'localhost', port })))?.error).toMatch(/^TLS: certificate expired 1\.\d days ago$/);
    await runner.close();
    await later.close();
  });

  test('handshake problems: untrusted, wrong name, refused', async () => {
    const untrusting = new ProbeRunner();
    expect(await untrusting.run(tls({ host: 'localhost', port }))).toMatchObject({
      ok: false,
      error: 'TLS: self-signed certificate',
    });
    const runner = new ProbeRunner({ ca: cert, resolve: parseResolveOverrides([`shop.keepwarm.test:${port}:127.0.0.1`]) });
    expect(await runner.run(tls({ host: 'shop.keepwarm.test', port }))).toMatchObject({
      ok: false,
      error: 'TLS: certificate does not match the host name',
    });
    expect(await runner.run(tls({ host: '127.0.0.1', port: await deadPort() }))).toMatchObject({
      ok: false,
      error: 'connection refused',
    });
    await untrusting.close();
    await runner.close();
  });

  test('HTTPS checks verify the certificate too', async () => {
    const runner = new ProbeRunner({ ca: cert });
    expect(await runner.run(httpSpec({ url: `https://localhost:${httpsPort}/`, bodyContains: 'secure' }))).toMatchObject({
      ok: true,
    });
    const untrusting = new ProbeRunner();
    expect(await untrusting.run(httpSpec({ url: `https://localhost:${httpsPort}/` }))).toMatchObject({
      ok: false,
      error: 'TLS: self-signed certificate',
    });
    await runner.close();
    await untrusting.close();
  });
});

/**
 * A tiny DNS server on loopback (the tests must not ask the machine's resolver, which is not on
 * loopback): A records for known names, NXDOMAIN for the rest, an empty answer for other types,
 * and silence for "silent.test".
 */
async function startDnsStub(records: Record<string, string>): Promise<{ server: string; close(): Promise<void> }> {
  const socket = createSocket('udp4');
  socket.on('message', (msg, rinfo) => {
    let offset = 12;
    const labels: string[] = [];
    for (let len = msg[offset] ?? 0; len > 0; len = msg[offset] ?? 0) {
      labels.push(msg.subarray(offset + 1, offset + 1 + len).toString('ascii'));
      offset += len + 1;
    }
    const qtype = msg.readUInt16BE(offset + 1);
    const question = msg.subarray(12, offset + 5);
    const name = labels.join('.').toLowerCase();
    if (name === 'silent.test') return;
    const address = records[name];
    const answers: Buffer[] = [];
    if (address && qtype === 1) {
      const rr = Buffer.alloc(16);
      rr.writeUInt16BE(0xc00c, 0);
      rr.writeUInt16BE(1, 2);
      rr.writeUInt16BE(1, 4);
      rr.writeUInt32BE(60, 6);
      rr.writeUInt16BE(4, 10);
      address.split('.').forEach((octet, i) => {
        rr[12 + i] = Number(octet);
      });
      answers.push(rr);
    }
    const header = Buffer.alloc(12);
    msg.copy(header, 0, 0, 2);
    header.writeUInt16BE(0x8180 | (address ? 0 : 3), 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    socket.send(Buffer.concat([header, question, ...answers]), rinfo.port, rinfo.address);
  });
  const port = await listen(socket);
  return { server: `${LOOPBACK}:${port}`, close: () => new Promise((r) => socket.close(() => r())) };
}

describe('DNS checks against a loopback name server', () => {
  let stub: Awaited<ReturnType<typeof startDnsStub>>;
  beforeAll(async () => {
    stub = await startDnsStub({ localhost: '127.0.0.1', 'shop.keepwarm.test': '127.0.0.7' });
  });
  afterAll(() => stub.close());
  const dns = (check: Record<string, unknown>) => runDnsCheck(dnsCheckSchema.parse(check), { servers: [stub.server] });

  test('a name that resolves: ok; with expected answers, one of them must be there', async () => {
    expect(await dns({ hostname: 'localhost' })).toMatchObject({ ok: true, degraded: false });
    expect(await dns({ hostname: 'localhost', expect: ['10.0.0.1', '127.0.0.1'] })).toMatchObject({ ok: true });
    expect(await dns({ hostname: 'shop.keepwarm.test', expect: ['127.0.0.1'] })).toMatchObject({
      ok: false,
      error: 'DNS: A is 127.0.0.7, expected one of 127.0.0.1',
    });
  });

  test('a name that must fail: NXDOMAIN; no records of the type; no answer in time', async () => {
    expect(await dns({ hostname: 'nonexistent.invalid' })).toMatchObject({ ok: false, error: 'DNS: no such name (NXDOMAIN)' });
    expect(await dns({ hostname: 'localhost', recordType: 'AAAA' })).toMatchObject({ ok: false, error: 'DNS: no AAAA records' });
    const slow = await dns({ hostname: 'silent.test', timeoutMs: 300 });
    expect(slow).toMatchObject({ ok: false, error: 'timeout after 300 ms' });
    expect(slow.latencyMs).toBeLessThan(1000);
  });

  test('through the runner, with its name servers', async () => {
    const runner = new ProbeRunner({ dnsServers: [stub.server] });
    const r = await runner.run({
      id: 'd1',
      componentId: 'c1',
      name: 'dns',
      intervalMs: 60_000,
      check: { type: 'dns', check: dnsCheckSchema.parse({ hostname: 'localhost' }) },
    });
    expect(r).toMatchObject({ monitorId: 'd1', ok: true });
    await runner.close();
  });
});
