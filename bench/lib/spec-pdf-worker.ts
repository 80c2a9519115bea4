/** Worker thread of the spec-pdf benchmark: renders the products [from, to) and reports the bytes. */
import { parentPort, workerData } from 'node:worker_threads';
import { renderSpecSheet } from '../../src/fallback/pdf/spec-sheet.js';
import { BENCH_SHEET_OPTIONS, generatedProduct } from './spec-pdf-products.js';

const { from, to, warmup } = workerData as { from: number; to: number; warmup: number };
for (let i = 0; i < warmup; i++) renderSpecSheet(generatedProduct(i), BENCH_SHEET_OPTIONS);
parentPort?.postMessage({ ready: true });
parentPort?.once('message', () => {
  let bytes = 0;
  for (let i = from; i < to; i++) bytes += renderSpecSheet(generatedProduct(i), BENCH_SHEET_OPTIONS).length;
  parentPort?.postMessage({ bytes });
});
