/**
 * mirror-incremental: the fallback mirror of a BENCH_PRODUCTS (10,000) product catalog with PDFs,
 * built and published once to a folder target (MirrorFolderTarget: shared bundles, versions, a
 * symlink switched atomically): that full build + publish is the reference. Then one product's
 * price changes, BENCH_CHANGES (5) times, a different product each time (after one untimed
 * warm-up change), and each change is planned, built incrementally and published to the folder.
 * The snapshot is in memory (its import is not timed). After each publish the changed product's
 * page is read through the live symlink and must show the new price. Figures: plan, build,
 * publish and total ms, medians. Target: total ≤ 200 ms; ratio = incremental / full.
 */
import { readFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import type { CatalogProduct, CatalogSnapshotFile } from '../src/catalog/product.js';
import { MirrorBuilder } from '../src/fallback/mirror/builder.js';
import { productPage } from '../src/fallback/mirror/paths.js';
import { type MirrorSettings, planMirror, productHash } from '../src/fallback/mirror/plan.js';
import { type ExtraFile, MirrorFolderTarget } from '../src/fallback/mirror/targets.js';
import { formatPrice } from '../src/fallback/pdf/format.js';
import { envNumber, formatInt, median, round } from './lib/env.js';
import { mirrorSettings, mirrorSnapshot } from './lib/mirror-catalog.js';
import { makeTempDir, removeTempDir } from './lib/process.js';
import type { Benchmark, BenchResult } from './lib/types.js';

const TARGET_MS = 200;

interface Step {
  planMs: number;
  buildMs: number;
  publishMs: number;
  totalMs: number;
  /** CPU time of the process (every thread) over the whole step. */
  cpuMs: number;
  rendered: number;
  written: number;
}

const FLAGS: ExtraFile = {
  path: 'flags.json',
  body: Buffer.from(JSON.stringify({ version: 1, flags: {} })),
  type: 'application/json; charset=utf-8',
};

async function rebuildAndPublish(
  snapshot: CatalogSnapshotFile,
  settings: MirrorSettings,
  builder: MirrorBuilder,
  target: MirrorFolderTarget,
  build: string,
  hashes: ReadonlyMap<string, string>,
): Promise<Step> {
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  // The catalog stores each product's hash at import (not timed here, as in the service).
  const plan = planMirror(snapshot, settings, { hashes });
  const t1 = performance.now();
  const { report, manifest } = await builder.build(plan, { build, snapshotId: snapshot.id, now: new Date(snapshot.created_at) });
  const t2 = performance.now();
  const published = await target.publish({ siteDir: builder.siteDir, manifest, extras: [FLAGS] });
  const t3 = performance.now();
  const used = process.cpuUsage(cpu);
  return {
    planMs: t1 - t0,
    buildMs: t2 - t1,
    publishMs: t3 - t2,
    totalMs: t3 - t0,
    cpuMs: (used.user + used.system) / 1000,
    rendered: report.rendered,
    written: published.written,
  };
}

/** The snapshot with product i's price raised: a new snapshot id, every other product the same object. */
function withNewPrice(
  snapshot: CatalogSnapshotFile,
  i: number,
  change: number,
): { next: CatalogSnapshotFile; product: CatalogProduct } {
  const old = snapshot.products[i] as CatalogProduct;
  const amount = (Number(old.price?.amount ?? '100') + 10 + change / 100).toFixed(2);
  const product: CatalogProduct = { ...old, price: { amount, currency: old.price?.currency ?? 'EUR' } };
  const products = [...snapshot.products];
  products[i] = product;
  return { next: { ...snapshot, id: `bench-snapshot-${change + 2}`, products }, product };
}

const ms = (v: number) => `${formatInt(v)} ms`;

export const mirrorIncremental: Benchmark = {
  name: 'mirror-incremental',
  description: 'fallback mirror of 10,000 products: one product changed, rebuilt and published to a folder (ms)',
  async run(): Promise<BenchResult> {
    const products = envNumber('BENCH_PRODUCTS', 10_000, { integer: true });
    const changes = envNumber('BENCH_CHANGES', 5, { integer: true });
    const dir = await makeTempDir('keepwarm-bench-mirror-inc-');
    try {
      const settings = mirrorSettings(true);
      const builder = new MirrorBuilder(join(dir, 'work'));
      const target = new MirrorFolderTarget({ name: 'bench', path: join(dir, 'www', 'mirror'), keepVersions: 3 });
      let snapshot = mirrorSnapshot(products);
      // What the catalog import computes and stores beside each product (catalog_products.hash).
      const hashes = new Map(snapshot.products.map((p) => [p.sku, productHash(p)]));
      console.log(
        `mirror-incremental: ${formatInt(products)} products in ${snapshot.categories.length} categories, PDFs on, folder target`,
      );
      const full = await rebuildAndPublish(snapshot, settings, builder, target, 'bench-full', hashes);
      console.log(
        `  full build + publish: ${ms(full.totalMs)}, CPU ${ms(full.cpuMs)} (plan ${ms(full.planMs)}, build ${ms(full.buildMs)}, publish ${ms(full.publishMs)}; ${formatInt(full.rendered)} files)`,
      );

      const steps: Step[] = [];
      // Change 0 is the warm-up; products spread over the catalog (different shards and categories).
      for (let c = 0; c <= changes; c++) {
        const i = (c * 1999 + 137) % products;
        const { next, product } = withNewPrice(snapshot, i, c);
        snapshot = next;
        hashes.set(product.sku, productHash(product));
        const step = await rebuildAndPublish(snapshot, settings, builder, target, `bench-change-${c}`, hashes);
        const page = await readFile(join(target.path, productPage(product.sku)), 'utf8');
        const shown = `<span>${formatPrice(product.price)}</span>`;
        if (!page.includes(shown))
          throw new Error(`${product.sku}: the published page does not show the new price ${formatPrice(product.price)}`);
        console.log(
          `  ${c === 0 ? 'warm-up' : `change ${c}`}: ${product.sku} price ${formatPrice(product.price)}: ${ms(step.totalMs)}, CPU ${ms(step.cpuMs)} (plan ${ms(step.planMs)}, build ${ms(step.buildMs)} for ${step.rendered} files, publish ${ms(step.publishMs)}, ${step.written} files written), new price live`,
        );
        if (c > 0) steps.push(step);
      }
      const total = median(steps.map((s) => s.totalMs));
      const ratio = total / full.totalMs;
      console.log(
        `  median of ${changes}: ${ms(total)}, CPU ${ms(median(steps.map((s) => s.cpuMs)))} (plan ${ms(median(steps.map((s) => s.planMs)))}, build ${ms(median(steps.map((s) => s.buildMs)))}, publish ${ms(median(steps.map((s) => s.publishMs)))}); target ≤ ${TARGET_MS} ms; ratio to the full build ${round(ratio, 4)}`,
      );
      const load = loadavg()[0] ?? 0;
      console.log(`  load average ${round(load, 2)} on ${availableParallelism()} cores`);
      if (load > availableParallelism()) console.log('  WARNING: the machine is busy: figures are noisy');
      return {
        bench: 'mirror-incremental',
        figures: {
          products,
          changes,
          total_ms: Math.round(total),
          cpu_ms: Math.round(median(steps.map((s) => s.cpuMs))),
          plan_ms: Math.round(median(steps.map((s) => s.planMs))),
          build_ms: Math.round(median(steps.map((s) => s.buildMs))),
          publish_ms: Math.round(median(steps.map((s) => s.publishMs))),
          files_rendered: median(steps.map((s) => s.rendered)),
          files_written: median(steps.map((s) => s.written)),
          load_average: round(load, 2),
        },
        reference: {
          full_ms: Math.round(full.totalMs),
          full_cpu_ms: Math.round(full.cpuMs),
          full_plan_ms: Math.round(full.planMs),
          full_build_ms: Math.round(full.buildMs),
          full_publish_ms: Math.round(full.publishMs),
          files: full.rendered,
        },
        ratio: round(ratio, 4),
        target: `total_ms <= ${TARGET_MS}`,
        pass: total <= TARGET_MS,
      };
    } finally {
      await removeTempDir(dir);
    }
  },
};
