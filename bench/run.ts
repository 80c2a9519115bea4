/**
 * Benchmark runner. `npm run bench` runs them all, `npm run bench -- NAME` one of them.
 * Each benchmark prints lines for people, then (printed here) one JSON line as its last line:
 * {"bench","figures","reference","ratio","target","pass"}. Exit 0 whether or not targets are met;
 * non-zero only when a benchmark could not run (2: unknown name).
 */

import { cadenceReplay } from './cadence-replay.js';
import { crmDeclare } from './crm-declare.js';
import { crmImport } from './crm-import.js';
import { detectionLatency } from './detection-latency.js';
import { drillAck } from './drill-ack.js';
import { eventIngest } from './event-ingest.js';
import { fanout } from './fanout.js';
import { cleanupNow } from './lib/process.js';
import { type Benchmark, BenchUnavailable } from './lib/types.js';
import { mirrorBuild } from './mirror-build.js';
import { mirrorIncremental } from './mirror-incremental.js';
import { probeScale } from './probe-scale.js';
import { publishLatency } from './publish-latency.js';
import { report } from './report.js';
import { specPdf } from './spec-pdf.js';
import { statusSurge } from './status-surge.js';

export const BENCHMARKS: readonly Benchmark[] = [
  statusSurge,
  fanout,
  probeScale,
  detectionLatency,
  drillAck,
  cadenceReplay,
  publishLatency,
  crmDeclare,
  crmImport,
  eventIngest,
  specPdf,
  mirrorBuild,
  mirrorIncremental,
  report,
];

function listKnown(out: (line: string) => void): void {
  out('known benchmarks:');
  for (const b of BENCHMARKS) out(`  ${b.name.padEnd(16)} ${b.description}`);
}

async function main(args: string[]): Promise<number> {
  if (args.includes('-h') || args.includes('--help')) {
    console.log('usage: npm run bench [-- NAME]');
    listKnown(console.log);
    return 0;
  }
  if (args.length > 1) {
    console.error(`usage: npm run bench [-- NAME] (got ${args.length} arguments)`);
    return 2;
  }
  let selected = BENCHMARKS;
  const [name] = args;
  if (name !== undefined) {
    const found = BENCHMARKS.find((b) => b.name === name);
    if (!found) {
      console.error(`unknown benchmark ${JSON.stringify(name)}`);
      listKnown(console.error);
      return 2;
    }
    selected = [found];
  }

  let failed = 0;
  for (const bench of selected) {
    try {
      const result = await bench.run();
      console.log(
        JSON.stringify({
          bench: result.bench,
          figures: result.figures,
          reference: result.reference,
          ratio: result.ratio,
          target: result.target,
          pass: result.pass,
        }),
      );
    } catch (err) {
      failed++;
      // One line: why it could not run. The stack of an unexpected failure only on request.
      const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
      console.error(`bench ${bench.name}: could not run: ${reason}`);
      if (!(err instanceof BenchUnavailable) && process.env.BENCH_DEBUG && err instanceof Error) console.error(err.stack);
    }
  }
  return failed > 0 ? 1 : 0;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    cleanupNow();
    process.exit(130);
  });
}
process.on('exit', cleanupNow);

process.exitCode = await main(process.argv.slice(2));
