import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { chmod, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { describeNeeding } from '../../../test/harness/env.js';
import { findNginx, nginxMissing } from '../../../test/harness/nginx.js';
import { freePort } from '../../../test/harness/ports.js';
import { main } from '../../cli/main.js';

type Io = NonNullable<Parameters<typeof main>[1]>;

/**
 * The showroom's edge with real nginx in front of a real loopback origin whose behaviour the
 * test switches: up, failing with 503, hanging, killed. The config comes from the CLI.
 */

type Mode = 'up' | 'fail' | 'hang';

const SDK_DIR = fileURLToPath(new URL('../../../web/sdk/', import.meta.url));
let sdkCopy = '';
const BANNER_URL = 'https://status.example.test/status/banner.json';

describeNeeding('nginx', nginxMissing, 'edge failover with real nginx', () => {
  let dir: string;
  let origin: Server;
  let originUrl: string;
  let mode: Mode = 'up';
  let originHits = 0;
  let nginx: ChildProcess;
  let edge: string;
  let conf: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keepwarm-edge-'));
    // Run as root, nginx's workers are nobody: they must be able to reach the mirror and cache.
    await chmod(dir, 0o755);
    // nginx's workers (nobody, when started as root) must read the SDK: a copy in the open folder,
    // not the checkout, which may sit under a folder only its owner can enter.
    sdkCopy = join(dir, 'sdk');
    await cp(SDK_DIR, sdkCopy, { recursive: true });
    const mirror = join(dir, 'mirror');
    await mkdir(join(mirror, 'products', 'c'), { recursive: true });
    const page = (title: string) =>
      `<!doctype html><html><head><title>${title}</title></head><body><h1>${title}</h1></body></html>`;
    await writeFile(join(mirror, 'index.html'), page('Mirror home'));
    await writeFile(join(mirror, 'products', 'a.html'), page('Mirror A'));
    await writeFile(join(mirror, 'products', 'b.html'), page('Mirror B'));
    await writeFile(join(mirror, 'products', 'c', 'index.html'), page('Mirror C'));

    origin = createServer((req, res) => {
      originHits++;
      if (mode === 'hang') return; // never answers: the edge's read timeout decides
      if (mode === 'fail') {
        res.writeHead(503, { 'content-type': 'text/html' }).end('<html><body>origin is broken</body></html>');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><html><body><h1>Live ${req.url}</h1></body></html>`);
    });
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    originUrl = `http://127.0.0.1:${(origin.address() as { port: number }).port}`;

    const port = await freePort();
    edge = `http://127.0.0.1:${port}`;
    conf = join(dir, 'nginx.conf');
    const out: string[] = [];
    const err: string[] = [];
    const io = {
      stdout: { write: (s: string) => out.push(s) } as unknown as Io['stdout'],
      stderr: { write: (s: string) => err.push(s) } as unknown as Io['stderr'],
    };
    const code = await main(
      [
        'edge',
        'nginx',
        '--origin',
        originUrl,
        '--mirror',
        mirror,
        '--listen',
        `127.0.0.1:${port}`,
        '--cache-dir',
        join(dir, 'cache'),
        '--sdk-dir',
        sdkCopy,
        '--banner-url',
        BANNER_URL,
        '--read-timeout',
        '1s',
        '--cache-valid',
        '1s',
        '--standalone',
        '--out',
        conf,
      ],
      io,
    );
    expect(err.join(''), 'CLI stderr').toBe('');
    expect(code).toBe(0);
    expect(out.join('')).toContain('wrote ');

    const bin = findNginx() as string;
    const errorLog = join(dir, 'cache', 'error.log');
    nginx = spawn(bin, ['-c', conf, '-e', errorLog, '-g', 'daemon off;'], { stdio: 'ignore' });
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (nginx.exitCode !== null) throw new Error(`nginx exited: ${await readFile(errorLog, 'utf8').catch(() => '')}`);
      try {
        await fetch(`${edge}/sdk/keepwarm-banner.js`, { signal: AbortSignal.timeout(1000) });
        break;
      } catch {
        if (Date.now() > deadline) throw new Error('nginx did not start');
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }, 20_000);

  afterAll(async () => {
    if (nginx && nginx.exitCode === null && nginx.signalCode === null) {
      const exited = new Promise((resolve) => nginx.once('exit', resolve));
      nginx.kill('SIGQUIT');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (nginx.exitCode === null && nginx.signalCode === null) nginx.kill('SIGKILL');
    }
    origin?.closeAllConnections();
    await new Promise((resolve) => origin?.close(resolve));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const get = async (path: string) => {
    const res = await fetch(`${edge}${path}`, { signal: AbortSignal.timeout(10_000) });
    return { status: res.status, headers: res.headers, body: await res.text() };
  };
  const bannerTag = `<script src="/sdk/keepwarm-banner.js" data-urls="${BANNER_URL}" async></script>`;

  test('the written config passes nginx -t', async () => {
    const { stderr } = await promisify(execFile)(findNginx() as string, [
      '-t',
      '-c',
      conf,
      '-e',
      join(dir, 'cache', 'error.log'),
    ]);
    expect(stderr).toContain('test is successful');
    expect(stderr).not.toContain('[warn]');
  });

  // The steps share one nginx and one origin, in order: up, failing, hanging, killed.
  let cachedAt = 0;

  test('origin up: the live page, untouched, then a fresh cached copy', async () => {
    const first = await get('/products/a');
    expect(first.status).toBe(200);
    expect(first.headers.get('x-keepwarm-source')).toBe('origin');
    expect(first.body).toContain('Live /products/a');
    expect(first.body).not.toContain('keepwarm-banner.js');
    cachedAt = Date.now();
    const hits = originHits;
    const second = await get('/products/a');
    expect(second.headers.get('x-keepwarm-source')).toBe('cache');
    expect(second.body).toBe(first.body);
    expect(originHits).toBe(hits);
  });

  test('the edge serves the banner, events and flags SDKs itself, and nothing else from their folder', async () => {
    for (const script of ['keepwarm-banner.js', 'keepwarm-events.js', 'keepwarm-flags.js']) {
      const res = await get(`/sdk/${script}`);
      expect(res.status, script).toBe(200);
      expect(res.headers.get('content-type')).toContain('javascript');
      expect(res.headers.get('x-keepwarm-source')).toBe('edge');
      expect(res.body).toBe(await readFile(join(SDK_DIR, script), 'utf8'));
    }
    // The folder's README is not one of the scripts: the request goes to the origin like any page.
    const readme = await get('/sdk/README.md');
    expect(readme.headers.get('x-keepwarm-source')).not.toBe('edge');
  });

  test('origin answers 5xx: the mirror page with the banner injected, not cached downstream', async () => {
    mode = 'fail';
    const res = await get('/products/b');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-keepwarm-source')).toBe('mirror');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body).toContain('<h1>Mirror B</h1>');
    expect(res.body).not.toContain('origin is broken');
    expect(res.body).toContain(`${bannerTag}</body>`);
    expect(res.body.split('keepwarm-banner.js').length).toBe(2);

    const home = await get('/');
    expect(home.headers.get('x-keepwarm-source')).toBe('mirror');
    expect(home.body).toContain('<h1>Mirror home</h1>');
    expect(home.body).toContain(bannerTag);
  });

  test('origin hangs: after the read timeout, the mirror (folder index)', async () => {
    mode = 'hang';
    const started = performance.now();
    const res = await get('/products/c/');
    const ms = performance.now() - started;
    expect(res.status).toBe(200);
    expect(res.headers.get('x-keepwarm-source')).toBe('mirror');
    expect(res.body).toContain('<h1>Mirror C</h1>');
    expect(res.body).toContain(bannerTag);
    expect(ms).toBeGreaterThanOrEqual(900);
    expect(ms).toBeLessThan(5000);
  });

  test('origin killed, page cached: the stale copy of the live page', async () => {
    origin.closeAllConnections();
    await new Promise((resolve) => origin.close(resolve));
    // The cached copy is fresh for 1 s (--cache-valid 1s); nginx keeps real time, so wait it out
    // (on a loaded machine the copy may have been stored a little later than cachedAt: poll).
    const wait = cachedAt + 1500 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    let res = await get('/products/a');
    for (let i = 0; i < 25 && res.headers.get('x-keepwarm-source') === 'cache'; i++) {
      await new Promise((r) => setTimeout(r, 200));
      res = await get('/products/a');
    }
    expect(res.status).toBe(200);
    expect(res.headers.get('x-keepwarm-source')).toBe('stale');
    expect(res.body).toContain('Live /products/a');
    expect(res.body).not.toContain('Mirror A');
  });

  test('origin down, page absent from the mirror: the outage page, 503 with Retry-After', async () => {
    const res = await get('/quotes/new?from=cart');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('120');
    expect(res.headers.get('x-keepwarm-source')).toBe('outage');
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.body).toContain('temporarily unavailable');
    expect(res.body).toContain('<a href="/">Browse the offline catalog</a>');
    expect(res.body).toContain(bannerTag);
  });
});
