/**
 * spec-pdf: BENCH_SHEETS (10,000) one-page spec-sheet PDFs from generated products (8 to 30
 * attributes, a few sentences of description), rendered in memory by renderSpecSheet (pdfkit,
 * built-in Helvetica, compressed). First on the main thread, then split over worker threads (one
 * per core, BENCH_PDF_WORKERS overrides) in the same process. Figures: wall ms per PDF of each run,
 * CPU ms per PDF, average PDF size. Target: ≤ 2 ms per PDF (the parallel figure; the
 * single-thread figure is printed beside it).
 */
import { availableParallelism, loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import { renderSpecSheet } from '../src/fallback/pdf/spec-sheet.js';
import { envNumber, formatInt, round } from './lib/env.js';
import { BENCH_SHEET_OPTIONS, generatedProduct } from './lib/spec-pdf-products.js';
import type { Benchmark, BenchResult } from './lib/types.js';

const TARGET_MS = 2;
const WARMUP = 300;

interface WorkerDone {
  bytes: number;
}

async function runWorkers(sheets: number, workers: number): Promise<{ wallMs: number; cpuMs: number; bytes: number }> {
  const share = Math.ceil(sheets / workers);
  const threads = Array.from({ length: workers }, (_, w) => {
    // Worker threads do not inherit tsx's loader: register it, then load the TypeScript worker.
    const entry = new URL('./lib/spec-pdf-worker.ts', import.meta.url).href;
    const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
    const worker = new Worker(boot, {
      eval: true,
      workerData: { from: w * share, to: Math.min(sheets, (w + 1) * share), warmup: WARMUP },
    });
    const ready = new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    });
    return { worker, ready };
  });
  try {
    await Promise.all(threads.map((t) => t.ready));
    const cpu = process.cpuUsage();
    const start = performance.now();
    const results = await Promise.all(
      threads.map(
        ({ worker }) =>
          new Promise<WorkerDone>((resolve, reject) => {
            worker.once('message', (m: WorkerDone) => resolve(m));
            worker.once('error', reject);
            worker.postMessage('go');
          }),
      ),
    );
    const wallMs = performance.now() - start;
    // process.cpuUsage() covers every thread of the process: measured here once, not summed per worker.
    const used = process.cpuUsage(cpu);
    return {
      wallMs,
      cpuMs: (used.user + used.system) / 1000,
      bytes: results.reduce((sum, r) => sum + r.bytes, 0),
    };
  } finally {
    await Promise.all(threads.map((t) => t.worker.terminate()));
  }
}

export const specPdf: Benchmark = {
  name: 'spec-pdf',
  description: '10,000 one-page spec-sheet PDFs (pdfkit): ms per PDF, main thread and worker threads',
  async run(): Promise<BenchResult> {
    const sheets = envNumber('BENCH_SHEETS', 10_000, { integer: true });
    const workers = envNumber('BENCH_PDF_WORKERS', availableParallelism(), { integer: true });
    console.log(`spec-pdf: ${formatInt(sheets)} spec sheets, warm-up ${WARMUP}, then ${workers} worker threads`);

    for (let i = 0; i < WARMUP; i++) renderSpecSheet(generatedProduct(i), BENCH_SHEET_OPTIONS);
    const cpu = process.cpuUsage();
    const start = performance.now();
    let bytes = 0;
    for (let i = 0; i < sheets; i++) bytes += renderSpecSheet(generatedProduct(i), BENCH_SHEET_OPTIONS).length;
    const singleWall = performance.now() - start;
    const used = process.cpuUsage(cpu);
    const singleCpu = (used.user + used.system) / 1000;
    const single = singleWall / sheets;
    console.log(
      `  main thread: ${round(singleWall / 1000, 2)} s, ${round(single, 3)} ms/PDF (CPU ${round(singleCpu / sheets, 3)} ms/PDF), ${formatInt(bytes / sheets)} bytes/PDF`,
    );

    const parallel = await runWorkers(sheets, workers);
    const perPdf = parallel.wallMs / sheets;
    console.log(
      `  ${workers} workers: ${round(parallel.wallMs / 1000, 2)} s, ${round(perPdf, 3)} ms/PDF (CPU ${round(parallel.cpuMs / sheets, 3)} ms/PDF)`,
    );
    const load = loadavg()[0] ?? 0;
    if (load > availableParallelism())
      console.log(`  WARNING: load average ${round(load, 2)} on ${availableParallelism()} cores: figures are noisy`);
    if (parallel.bytes !== bytes)
      throw new Error(`workers produced ${parallel.bytes} bytes, main thread ${bytes}: output is not deterministic`);

    return {
      bench: 'spec-pdf',
      figures: {
        sheets,
        ms_per_pdf: round(perPdf, 3),
        cpu_ms_per_pdf: round(singleCpu / sheets, 3),
        workers,
        pdfs_per_s: Math.round(sheets / (parallel.wallMs / 1000)),
        bytes_per_pdf: Math.round(bytes / sheets),
        load_average: round(load, 2),
      },
      // The same PDFs on one thread, in the same run: what the worker threads buy.
      reference: { ms_per_pdf_single_thread: round(single, 3) },
      ratio: round(perPdf / single, 3),
      target: `ms_per_pdf <= ${TARGET_MS}`,
      pass: perPdf <= TARGET_MS,
    };
  },
};
