import { type ChildProcess, spawn } from 'node:child_process';
import { chmod, cp, mkdtemp, readFile, realpath, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { describeNeeding } from '../../../test/harness/env.js';
import { findNginx, type NginxServer, nginxMissing, startNginx } from '../../../test/harness/nginx.js';
import { freePort } from '../../../test/harness/ports.js';
import type { CatalogProduct, CatalogSnapshotFile } from '../../catalog/product.js';
import { main } from '../../cli/main.js';
import { MirrorBuilder, type MirrorManifest } from './builder.js';
import { categoryDir, productDir, productPage, specSheetPath } from './paths.js';
import { type MirrorSettings, planMirror } from './plan.js';
import { MirrorFolderTarget, type TargetReport } from './targets.js';

/**
 * The published mirror behind real nginx: a folder target's symlinked version (bundles linked
 * from the store beside it) served as the web root, an incremental publish switching under a
 * running nginx, and the edge config (`keepwarm edge nginx`) answering a product's live URL from
 * the mirror while the showroom is down.
 */

type Io = NonNullable<Parameters<typeof main>[1]>;

const SETTINGS: MirrorSettings = {
  title: 'Acme: backup catalog',
  siteUrl: 'https://catalog.acme.example',
  orderEndpoint: 'https://keepwarm.acme.example/fallback/v1/orders',
  chatEndpoint: 'https://keepwarm.acme.example/api/v1/chat/messages',
  statusUrl: 'https://keepwarm.acme.example/status',
  bannerUrls: ['https://keepwarm.acme.example/status/banner.json'],
  contact: { email: 'sales@acme.example', phone: '+1 555 0100' },
  pdfs: true,
};

const LIVE_URL = 'https://showroom.acme.example/products/modular-shelving-100';

function product(sku: string, name: string, categories: string[], amount: string, extra: Partial<CatalogProduct> = {}) {
  return {
    sku,
    name,
    description: `${name} for showrooms and stock rooms.`,
    brand: 'Acme',
    categories,
    group: null,
    price: { amount, currency: 'EUR' },
    availability: 'in_stock',
    gtin: null,
    mpn: null,
    images: [],
    url: null,
    attributes: [
      { code: 'width', label: 'Width', value: '100', unit: 'cm' },
      { code: 'material', label: 'Material', value: 'Powder-coated steel', unit: null },
    ],
    updated_at: null,
    ...extra,
  } satisfies CatalogProduct;
}

function snapshot(id: string, shelfPrice: string): CatalogSnapshotFile {
  return {
    version: 1,
    id,
    created_at: '2026-11-20T08:00:00.000Z',
    source: 'test',
    categories: [
      { code: 'furniture', parent: null, label: 'Furniture' },
      { code: 'shelving', parent: 'furniture', label: 'Shelving' },
      { code: 'lighting', parent: null, label: 'Lighting' },
    ],
    products: [
      product('SHL-100', 'Modular shelving unit 100 cm', ['furniture', 'shelving'], shelfPrice, { url: LIVE_URL }),
      product('SHL-120', 'Modular shelving unit 120 cm', ['furniture', 'shelving'], '149.00'),
      product('LGT-300', 'Track spotlight 20 W', ['lighting'], '89.00'),
      product('LGT-310', 'Track spotlight 35 W', ['lighting'], '109.00'),
    ],
  };
}

const SDK_DIR = fileURLToPath(new URL('../../../web/sdk/', import.meta.url));

describeNeeding('nginx', nginxMissing, 'published fallback mirror served by real nginx', () => {
  let dir: string;
  let builder: MirrorBuilder;
  let target: MirrorFolderTarget;
  let site: string;
  let nginx: NginxServer;
  let manifest: MirrorManifest;
  let first: TargetReport;

  const build = async (snap: CatalogSnapshotFile) => {
    const out = await builder.build(planMirror(snap, SETTINGS), {
      build: `build-${snap.id}`,
      snapshotId: snap.id,
      now: new Date(),
    });
    manifest = out.manifest;
    const report = await target.publish({
      siteDir: builder.siteDir,
      manifest,
      extras: [{ path: 'flags.json', body: Buffer.from('{"flags":{}}'), type: 'application/json' }],
    });
    return { build: out.report, publish: report };
  };

  const get = async (base: string, path: string) => {
    const res = await fetch(`${base}/${path}`, { signal: AbortSignal.timeout(10_000) });
    return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
  };

  beforeAll(async () => {
    // nginx runs as root here with workers as nobody: everything it reads sits in an open folder.
    dir = await mkdtemp(join(tmpdir(), 'keepwarm-mirror-nginx-'));
    await chmod(dir, 0o755);
    builder = new MirrorBuilder(join(dir, 'work'));
    site = join(dir, 'catalog');
    target = new MirrorFolderTarget({ name: 'nginx', path: site, keepVersions: 2 });
    first = (await build(snapshot('s1', '129.00'))).publish;
    nginx = await startNginx(site);
  }, 60_000);

  afterAll(async () => {
    await nginx?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('nginx serves the home page, a product page, its spec sheet and the search shard, byte for byte', async () => {
    expect(first.version).not.toBeNull();
    expect(first.written).toBeGreaterThan(0);
    const expectServed = async (path: string) => {
      const res = await get(nginx.url, path.replace(/index\.html$/, ''));
      expect(res.status, path).toBe(200);
      expect(res.body.equals(await readFile(join(site, path))), `${path}: the published bytes`).toBe(true);
      return res;
    };
    const home = await expectServed('index.html');
    expect(home.headers.get('content-type')).toContain('text/html');
    expect(home.body.toString()).toContain('<h1>Acme: backup catalog</h1>');

    const page = await expectServed(productPage('SHL-100'));
    expect(page.body.toString()).toContain('<h1>Modular shelving unit 100 cm</h1>');
    expect(page.body.toString()).toContain('129.00 EUR');

    const sheet = await expectServed(specSheetPath('SHL-100'));
    expect(sheet.body.subarray(0, 5).toString('latin1')).toBe('%PDF-');

    const index = JSON.parse((await expectServed('search/index.json')).body.toString()) as { shards: string[] };
    expect(index.shards).toHaveLength(1);
    const shard = await expectServed(`search/${index.shards[0]}`);
    expect(shard.headers.get('content-type')).toContain('application/json');
    expect(shard.body.toString()).toContain('SHL-100');

    // The bundles nginx just read are symlinks into the store beside the published folder.
    expect(await realpath(join(site, productDir('SHL-100')))).toContain(`${join(dir, '.catalog.store')}/`);
    // A folder without a page is refused, not listed; nothing outside the root is served.
    expect((await get(nginx.url, 'p/')).status).toBe(403);
    expect((await get(nginx.url, '../work/manifest.json')).status).not.toBe(200);
  });

  test('an incremental publish (one price) shows at once through nginx; unchanged bundles are not rewritten', async () => {
    const lighting = join(site, categoryDir('lighting'));
    const lightingStore = await realpath(lighting);
    const lightingInode = (await stat(join(lighting, 'index.html'))).ino;
    const otherShard = join(site, productDir('LGT-300'));
    const otherShardStore = await realpath(otherShard);
    const assetsStore = await realpath(join(site, 'assets'));
    const shelfShardStore = await realpath(join(site, productDir('SHL-100')));
    expect(productDir('LGT-300').split('/')[1]).not.toBe(productDir('SHL-100').split('/')[1]);

    const { build: report, publish } = await build(snapshot('s2', '139.00'));
    // Served right after the switch, no reload of nginx.
    const page = (await get(nginx.url, productPage('SHL-100').replace(/index\.html$/, ''))).body.toString();
    expect(page).toContain('139.00 EUR');
    expect(page).not.toContain('129.00 EUR');
    const shelving = (await get(nginx.url, `${categoryDir('shelving')}/`)).body.toString();
    expect(shelving).toContain('139.00 EUR');
    const index = JSON.parse((await get(nginx.url, 'search/index.json')).body.toString()) as { shards: string[] };
    expect((await get(nginx.url, `search/${index.shards[0]}`)).body.toString()).toContain('139.00 EUR');
    const sheet = await get(nginx.url, specSheetPath('SHL-100'));
    expect(sheet.status).toBe(200);
    expect(sheet.body.equals(await readFile(join(site, specSheetPath('SHL-100'))))).toBe(true);

    // Only what shows the price was rendered and written; the rest is the same store directory.
    expect(report.full).toBe(false);
    expect(report.rendered).toBeLessThan(report.files / 2);
    expect(publish.version).not.toBe(first.version);
    expect(publish.reused).toBeGreaterThan(0);
    expect(publish.written).toBeLessThan(first.written);
    expect(await realpath(lighting)).toBe(lightingStore);
    expect((await stat(join(lighting, 'index.html'))).ino).toBe(lightingInode);
    expect(await realpath(otherShard)).toBe(otherShardStore);
    expect(await realpath(join(site, 'assets'))).toBe(assetsStore);
    expect(await realpath(join(site, productDir('SHL-100')))).not.toBe(shelfShardStore);
  });

  test('through the edge config with the showroom down, the live product URL gets the mirror page', async () => {
    const origin = `http://127.0.0.1:${await freePort()}`; // nothing listens: the showroom is down
    const port = await freePort();
    const edge = `http://127.0.0.1:${port}`;
    const cache = join(dir, 'edge-cache');
    const sdk = join(dir, 'sdk');
    await cp(SDK_DIR, sdk, { recursive: true });
    const conf = join(dir, 'edge.conf');
    const err: string[] = [];
    const io = {
      stdout: { write: () => true } as unknown as Io['stdout'],
      stderr: { write: (s: string) => err.push(s) } as unknown as Io['stderr'],
    };
    const code = await main(
      [
        'edge',
        'nginx',
        '--origin',
        origin,
        '--mirror',
        site,
        '--listen',
        `127.0.0.1:${port}`,
        '--cache-dir',
        cache,
        '--sdk-dir',
        sdk,
        '--banner-url',
        SETTINGS.bannerUrls[0] as string,
        '--connect-timeout',
        '1s',
        '--standalone',
        '--out',
        conf,
      ],
      io,
    );
    expect(err.join(''), 'CLI stderr').toBe('');
    expect(code).toBe(0);
    const errorLog = join(cache, 'error.log');
    const child: ChildProcess = spawn(findNginx() as string, ['-c', conf, '-e', errorLog, '-g', 'daemon off;'], {
      stdio: 'ignore',
    });
    try {
      const deadline = Date.now() + 10_000;
      for (;;) {
        if (child.exitCode !== null) throw new Error(`nginx exited: ${await readFile(errorLog, 'utf8').catch(() => '')}`);
        try {
          await fetch(`${edge}/sdk/keepwarm-banner.js`, { signal: AbortSignal.timeout(1000) });
          break;
        } catch {
          if (Date.now() > deadline) throw new Error('nginx did not start');
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      // The buyer's bookmark of the live product page: the mirror's alias page, pointing at the product.
      const live = new URL(LIVE_URL).pathname;
      const alias = await get(edge, live.slice(1));
      expect(alias.status).toBe(200);
      expect(alias.headers.get('x-keepwarm-source')).toBe('mirror');
      const body = alias.body.toString();
      const href = /<link rel="canonical" href="([^"]+)"/.exec(body)?.[1];
      expect(href).toBeDefined();
      const next = new URL(href as string, `${edge}${live}/`);
      expect(next.pathname).toBe(`/${productDir('SHL-100')}/`);
      expect(body).toContain('<meta http-equiv="refresh"');

      // Following it: the product page from the mirror, current price, banner injected.
      const res = await get(edge, next.pathname.slice(1));
      expect(res.status).toBe(200);
      expect(res.headers.get('x-keepwarm-source')).toBe('mirror');
      const html = res.body.toString();
      expect(html).toContain('<h1>Modular shelving unit 100 cm</h1>');
      expect(html).toContain('139.00 EUR');
      expect(html).toContain('/sdk/keepwarm-banner.js');

      const pdf = await get(edge, specSheetPath('SHL-100'));
      expect(pdf.status).toBe(200);
      expect(pdf.headers.get('content-type')).toBe('application/pdf');
      expect(pdf.body.equals(await readFile(join(site, specSheetPath('SHL-100'))))).toBe(true);
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGQUIT');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
    }
  }, 30_000);
});
