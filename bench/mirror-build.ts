/**
 * mirror-build: the fallback mirror of a BENCH_PRODUCTS (10,000) product catalog (49 categories,
 * bench/lib/mirror-catalog.ts) built from scratch: the snapshot read from its JSON file, planned
 * and built into an empty folder (product, category, comparison, home, order, search, 404 pages,
 * comparison CSVs, the 16 search-index shards, sitemap), PDFs off. Beside it, in the same run,
 * Hugo (the Debian package) builds the same catalog from equivalent content
 * (bench/lib/hugo-catalog.ts: one content file per product, a section per category, templates
 * producing comparable pages) into an empty folder: `hugo --quiet`. Hugo has no search index.
 * One warm-up build each, then BENCH_ROUNDS (3) alternating rounds; figures are medians. Both write
 * to the same disk (temporary folders). Ratio: our median / Hugo's median; target ≤ 0.5. The full
 * build with PDFs (spec sheets, comparison PDFs, product packs) is printed beside it, not in the ratio.
 */
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import type { CatalogSnapshotFile } from '../src/catalog/product.js';
import { MirrorBuilder } from '../src/fallback/mirror/builder.js';
import { type MirrorSettings, planMirror } from '../src/fallback/mirror/plan.js';
import { envNumber, formatInt, median, round } from './lib/env.js';
import { writeHugoSite } from './lib/hugo-catalog.js';
import { folderSize, mirrorSettings, mirrorSnapshot } from './lib/mirror-catalog.js';
import { findExecutable, makeTempDir, removeTempDir, runCommand } from './lib/process.js';
import { type Benchmark, type BenchResult, BenchUnavailable } from './lib/types.js';

const TARGET_RATIO = 0.5;

interface Run {
  wallMs: number;
  /** CPU time of every thread of the process (ours) or of the child process (Hugo). */
  cpuMs: number;
}

interface OurRun extends Run {
  planMs: number;
  files: number;
  pages: number;
  bytes: number;
}

/** Read and parse the snapshot file, plan, build into an empty folder: what a full rebuild does. */
async function buildOurs(snapshotFile: string, workDir: string, settings: MirrorSettings, round: number): Promise<OurRun> {
  await rm(join(workDir, 'site'), { recursive: true, force: true });
  await rm(join(workDir, 'manifest.json'), { force: true });
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  const snapshot = JSON.parse(await readFile(snapshotFile, 'utf8')) as CatalogSnapshotFile;
  const plan = planMirror(snapshot, settings);
  const planMs = performance.now() - t0;
  const { report } = await new MirrorBuilder(workDir).build(
    plan,
    { build: `bench-${round}`, snapshotId: snapshot.id, now: new Date(snapshot.created_at) },
    { full: true },
  );
  const wallMs = performance.now() - t0;
  const used = process.cpuUsage(cpu);
  return {
    wallMs,
    cpuMs: (used.user + used.system) / 1000,
    planMs,
    files: report.files,
    pages: plan.files.filter((f) => f.contentType.startsWith('text/html')).length,
    bytes: report.bytes,
  };
}

/** `times` after the command prints the children's user and system CPU time: "0m12.345s 0m1.234s". */
function parseTimes(stdout: string): number {
  const lines = stdout.trim().split('\n');
  const last = lines[lines.length - 1] ?? '';
  const parts = [...last.matchAll(/(\d+)m([\d.]+)s/g)];
  if (parts.length < 2) return Number.NaN;
  return parts.slice(0, 2).reduce((sum, m) => sum + (Number(m[1]) * 60 + Number(m[2])) * 1000, 0);
}

async function buildHugo(hugo: string, source: string, destination: string): Promise<Run> {
  await rm(destination, { recursive: true, force: true });
  const t0 = performance.now();
  // Through sh only to read the child's CPU time (`times`); sh itself costs about a millisecond.
  const result = await runCommand(
    '/bin/sh',
    ['-c', '"$0" --quiet --source "$1" --destination "$2" || exit 1; times', hugo, source, destination],
    { cwd: source, timeoutMs: 15 * 60_000 },
  );
  const wallMs = performance.now() - t0;
  if (result.code !== 0)
    throw new BenchUnavailable(`hugo failed (exit ${result.code ?? result.signal}): ${result.stderr.trim().split('\n')[0]}`);
  return { wallMs, cpuMs: parseTimes(result.stdout) };
}

const ms = (v: number) => `${formatInt(v)} ms`;

export const mirrorBuild: Benchmark = {
  name: 'mirror-build',
  description: 'fallback mirror of 10,000 products, full build (pages + search) vs Hugo on the same catalog: ratio',
  async run(): Promise<BenchResult> {
    const hugo = findExecutable('hugo', 'HUGO_BIN');
    if (!hugo) throw new BenchUnavailable('hugo not found (install it: apt-get install hugo; or set HUGO_BIN)');
    const version = (await runCommand(hugo, ['version'])).stdout.trim().split(' ').slice(0, 2).join(' ');
    const products = envNumber('BENCH_PRODUCTS', 10_000, { integer: true });
    const rounds = envNumber('BENCH_ROUNDS', 3, { integer: true });

    const dir = await makeTempDir('keepwarm-bench-mirror-');
    try {
      const snapshot = mirrorSnapshot(products);
      const snapshotFile = join(dir, 'snapshot.json');
      await writeFile(snapshotFile, JSON.stringify(snapshot));
      const settings = mirrorSettings(false);
      const hugoSite = await writeHugoSite(join(dir, 'hugo'), snapshot, settings);
      const hugoOut = join(dir, 'hugo-public');
      const ourDir = join(dir, 'mirror');
      console.log(
        `mirror-build: ${formatInt(products)} products in ${snapshot.categories.length} categories; ${version} on ${formatInt(hugoSite.contentFiles)} content files`,
      );
      console.log(
        `  each side: 1 warm-up build, then ${rounds} alternating rounds (median), into an empty folder on the same disk`,
      );
      console.log('  Hugo builds no search index (it has none built in); ours includes it');

      await buildOurs(snapshotFile, ourDir, settings, 0);
      await buildHugo(hugo, hugoSite.source, hugoOut);
      const ours: OurRun[] = [];
      const theirs: Run[] = [];
      for (let r = 1; r <= rounds; r++) {
        const a = await buildOurs(snapshotFile, ourDir, settings, r);
        ours.push(a);
        const b = await buildHugo(hugo, hugoSite.source, hugoOut);
        theirs.push(b);
        console.log(
          `  round ${r}: ours ${ms(a.wallMs)} (plan ${ms(a.planMs)}, CPU ${ms(a.cpuMs)}), Hugo ${ms(b.wallMs)} (CPU ${ms(b.cpuMs)})`,
        );
      }
      const last = ours[ours.length - 1] as OurRun;
      const hugoSize = await folderSize(hugoOut);
      const hugoPages = await countHtml(hugoOut);
      const ourMs = median(ours.map((r) => r.wallMs));
      const hugoMs = median(theirs.map((r) => r.wallMs));
      const ratio = ourMs / hugoMs;
      console.log(
        `  ours: ${formatInt(last.pages)} pages, ${formatInt(last.files)} files, ${formatInt(last.bytes)} bytes: ${ms(ourMs)} (CPU ${ms(median(ours.map((r) => r.cpuMs)))})`,
      );
      console.log(
        `  Hugo: ${formatInt(hugoPages)} pages, ${formatInt(hugoSize.files)} files, ${formatInt(hugoSize.bytes)} bytes: ${ms(hugoMs)} (CPU ${ms(median(theirs.map((r) => r.cpuMs)))})`,
      );
      console.log(`  ratio ${round(ratio, 2)} (target ≤ ${TARGET_RATIO})`);

      // With PDFs: once, not in the ratio (Hugo renders none).
      const withPdfs = await buildOurs(snapshotFile, ourDir, mirrorSettings(true), rounds + 1);
      console.log(
        `  with PDFs (1 run): ${formatInt(withPdfs.files)} files, ${formatInt(withPdfs.bytes)} bytes: ${ms(withPdfs.wallMs)} (CPU ${ms(withPdfs.cpuMs)})`,
      );
      const load = loadavg()[0] ?? 0;
      console.log(`  load average ${round(load, 2)} on ${availableParallelism()} cores`);
      if (load > availableParallelism()) console.log('  WARNING: the machine is busy: figures are noisy');

      return {
        bench: 'mirror-build',
        figures: {
          products,
          categories: snapshot.categories.length,
          pages: last.pages,
          files: last.files,
          bytes: last.bytes,
          ms: Math.round(ourMs),
          plan_ms: Math.round(median(ours.map((r) => r.planMs))),
          cpu_ms: Math.round(median(ours.map((r) => r.cpuMs))),
          with_pdfs_ms: Math.round(withPdfs.wallMs),
          with_pdfs_files: withPdfs.files,
          with_pdfs_bytes: withPdfs.bytes,
          rounds,
          load_average: round(load, 2),
        },
        reference: {
          tool: version,
          pages: hugoPages,
          files: hugoSize.files,
          bytes: hugoSize.bytes,
          ms: Math.round(hugoMs),
          cpu_ms: Math.round(median(theirs.map((r) => r.cpuMs))),
          search_index: false,
        },
        ratio: round(ratio, 3),
        target: `ratio <= ${TARGET_RATIO}`,
        pass: ratio <= TARGET_RATIO,
      };
    } finally {
      await removeTempDir(dir);
    }
  },
};

async function countHtml(dir: string): Promise<number> {
  const entries = await readdir(dir, { recursive: true });
  return entries.filter((e) => e.endsWith('.html')).length;
}
