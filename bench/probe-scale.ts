/**
 * probe-scale: 1,000 HTTP monitors at a 10 s interval (100 checks/s) against one local origin, in
 * one process running the real scheduler, check runner and result batching (the agent's path,
 * minus the network post: batches are serialised to the API's JSON and counted). That process is a
 * child of the benchmark, so nothing else runs in it; it measures itself over a sustained window
 * after a warm-up: CPU share (process.cpuUsage), peak RSS, event-loop delay p99.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { httpCheckSchema, type MonitorSpec } from '../src/detection/monitor.js';
import { toWire } from '../src/detection/probes/agent.js';
import { ResultReporter } from '../src/detection/probes/reporter.js';
import { ProbeRunner } from '../src/detection/probes/runner.js';
import { ProbeScheduler } from '../src/detection/probes/scheduler.js';
import { envNumber, formatInt, round } from './lib/env.js';
import { httpRequest } from './lib/http.js';
import { freePort, LOOPBACK } from './lib/ports.js';
import { type Daemon, makeTempDir, REPO_ROOT, removeTempDir, runCommand, spawnDaemon, waitUntil } from './lib/process.js';
import { type Benchmark, type BenchResult, BenchUnavailable } from './lib/types.js';

/** Uptime Kuma 2.5.3 on this kind of machine: 1,000 monitors at a 20 s interval. */
const PEER = { name: 'Uptime Kuma 2.5.3', monitors: 1000, intervalS: 20, cpuShare: 0.156, rssMibLow: 264, rssMibHigh: 430 };
const TARGETS = { cpuShare: 0.15, rssMb: 200, eventLoopP99Ms: 50 };
const ELD_RESOLUTION_MS = 10;

/**
 * The origin: a bare node:http server with keep-alive (as a CDN or nginx keeps connections open
 * longer than Node's 5 s default), answering a small JSON health document. Shared with
 * detection-latency.
 */
export const ORIGIN_SOURCE = `
import { createServer } from 'node:http';
let requests = 0;
const body = JSON.stringify({ status: { indicator: 'none', description: 'All systems ok' } });
const server = createServer((req, res) => {
  if (req.url === '/__requests') { res.end(String(requests)); return; }
  requests++;
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
});
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;
server.listen(Number(process.env.ORIGIN_PORT), process.env.ORIGIN_HOST, () => console.log('origin listening'));
`;

export async function startOrigin(port: number, logFile: string): Promise<{ url: string; daemon: Daemon }> {
  const daemon = spawnDaemon('origin', process.execPath, ['--input-type=module', '-e', ORIGIN_SOURCE], {
    env: { ...process.env, ORIGIN_PORT: String(port), ORIGIN_HOST: LOOPBACK },
    logFile,
  });
  const url = `http://${LOOPBACK}:${port}`;
  await waitUntil(
    `the origin on ${url}`,
    async () => (await httpRequest(`${url}/__requests`, { timeoutMs: 1000 })).status === 200,
    {
      timeoutMs: 15_000,
      intervalMs: 50,
      daemon,
    },
  );
  return { url, daemon };
}

interface ChildConfig {
  origin: string;
  monitors: number;
  intervalMs: number;
  warmupMs: number;
  durationMs: number;
}

interface ChildReport {
  seconds: number;
  checks: number;
  checksPerSecond: number;
  failed: number;
  cpuShare: number;
  /** Of which in the kernel (sockets, timers; on loopback also the TCP work of the packets it sends). */
  cpuSystemShare: number;
  cpuMsPerCheck: number;
  rssPeakBytes: number;
  heapUsedBytes: number;
  eventLoopP50Ms: number;
  eventLoopP99Ms: number;
  eventLoopMaxMs: number;
  lagP99Ms: number;
  skipped: number;
  batches: number;
}

/** The monitors: a mix of plain status checks, body text and JSON assertions, each its own path. */
function monitorSpecs(config: ChildConfig): MonitorSpec[] {
  return Array.from({ length: config.monitors }, (_, i) => {
    const base = { url: `${config.origin}/health/${i}`, timeoutMs: 5_000, degradedMs: 2_000 };
    const extra =
      i % 4 === 1 ? { bodyContains: 'All systems ok' } : i % 4 === 3 ? { jsonPath: 'status.indicator', jsonEquals: 'none' } : {};
    return {
      id: `m${String(i).padStart(5, '0')}`,
      componentId: `c${i % 20}`,
      name: `Monitor ${i}`,
      intervalMs: config.intervalMs,
      check: { type: 'http' as const, check: httpCheckSchema.parse({ ...base, ...extra }) },
    };
  });
}

async function runChild(config: ChildConfig): Promise<ChildReport> {
  let batches = 0;
  let failed = 0;
  let counting = false;
  const runner = new ProbeRunner();
  const reporter = new ResultReporter({
    // What an agent does with a batch before posting it: the API's JSON.
    async deliver(batch) {
      JSON.stringify({ region: 'bench', results: batch.map(toWire) });
      batches++;
      if (counting) failed += batch.filter((r) => !r.ok).length;
    },
  });
  const scheduler = new ProbeScheduler({ run: (s) => runner.run(s), onResults: (b) => reporter.push(b) });
  scheduler.setMonitors(monitorSpecs(config));
  await new Promise((r) => setTimeout(r, config.warmupMs));

  counting = true;
  const eld = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });
  let rssPeak = process.memoryUsage.rss();
  const rssTimer = setInterval(() => {
    rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
  }, 500);
  const completed0 = scheduler.stats().completed;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  eld.enable();
  await new Promise((r) => setTimeout(r, config.durationMs));
  eld.disable();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  clearInterval(rssTimer);
  rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
  const stats = scheduler.stats();
  const checks = stats.completed - completed0;
  await scheduler.stop();
  await runner.close();
  await reporter.close();
  const cpuMs = (cpu.user + cpu.system) / 1000;
  // The histogram times a timer of the resolution's period: the delay is what exceeds it.
  const delay = (ns: number) => round(Math.max(0, ns / 1e6 - ELD_RESOLUTION_MS), 2);
  return {
    seconds: round(ms / 1000, 1),
    checks,
    checksPerSecond: round(checks / (ms / 1000), 1),
    failed,
    cpuShare: round(cpuMs / ms, 4),
    cpuSystemShare: round(cpu.system / 1000 / ms, 4),
    cpuMsPerCheck: round(cpuMs / Math.max(1, checks), 3),
    rssPeakBytes: rssPeak,
    heapUsedBytes: process.memoryUsage().heapUsed,
    eventLoopP50Ms: delay(eld.percentile(50)),
    eventLoopP99Ms: delay(eld.percentile(99)),
    eventLoopMaxMs: delay(eld.max),
    lagP99Ms: stats.lagP99Ms,
    skipped: stats.skipped,
    batches,
  };
}

async function run(): Promise<BenchResult> {
  const monitors = envNumber('BENCH_MONITORS', 1000, { integer: true });
  const intervalS = envNumber('BENCH_INTERVAL', 10, { min: 5 });
  const durationS = envNumber('BENCH_DURATION', 60);
  // Warm-up: every monitor has run once (first runs are spread over one interval), connections are open.
  const warmupS = envNumber('BENCH_PROBE_WARMUP', intervalS + 5, { min: 0 });
  const dir = await makeTempDir('keepwarm-bench-probes-');
  let origin: { url: string; daemon: Daemon } | null = null;
  try {
    origin = await startOrigin(await freePort(), `${dir}/origin.log`);
    console.log(
      `probe-scale: ${formatInt(monitors)} HTTP monitors every ${intervalS} s (${formatInt(monitors / intervalS)} checks/s) ` +
        `against ${origin.url}; warm-up ${warmupS} s, measured ${durationS} s`,
    );
    const config: ChildConfig = {
      origin: origin.url,
      monitors,
      intervalMs: intervalS * 1000,
      warmupMs: warmupS * 1000,
      durationMs: durationS * 1000,
    };
    const child = await runCommand(process.execPath, ['--import', 'tsx', `${REPO_ROOT}bench/probe-scale.ts`, 'child'], {
      env: { ...process.env, BENCH_PROBE_CONFIG: JSON.stringify(config) },
      timeoutMs: (warmupS + durationS + 120) * 1000,
    });
    const last = child.stdout.trim().split('\n').at(-1) ?? '';
    if (child.code !== 0 || !last.startsWith('{')) {
      throw new BenchUnavailable(
        `the probe process failed (${child.code ?? child.signal}): ${child.stderr.trim().split('\n').slice(-3).join(' | ')}`,
      );
    }
    const r = JSON.parse(last) as ChildReport;
    const originRequests = Number((await httpRequest(`${origin.url}/__requests`)).body.toString());

    const rssMb = r.rssPeakBytes / 1e6;
    const rssMib = r.rssPeakBytes / 2 ** 20;
    const peerChecksPerSecond = PEER.monitors / PEER.intervalS;
    const peerCpuMsPerCheck = (PEER.cpuShare * 1000) / peerChecksPerSecond;
    const ratio = round(r.cpuMsPerCheck / peerCpuMsPerCheck, 3);
    const pass =
      r.cpuShare < TARGETS.cpuShare && rssMb < TARGETS.rssMb && r.eventLoopP99Ms < TARGETS.eventLoopP99Ms && r.failed === 0;

    console.log(
      `  checks: ${formatInt(r.checks)} in ${r.seconds} s (${r.checksPerSecond}/s), failed ${r.failed}, skipped ${r.skipped}, ` +
        `start lag p99 ${r.lagP99Ms} ms; the origin answered ${formatInt(originRequests)} requests in all`,
    );
    console.log(
      `  CPU ${(r.cpuShare * 100).toFixed(1)} % of one core (target < ${TARGETS.cpuShare * 100} %; kernel ${(r.cpuSystemShare * 100).toFixed(1)} %), ${r.cpuMsPerCheck} ms per check`,
    );
    console.log(`  RSS peak ${rssMb.toFixed(1)} MB = ${rssMib.toFixed(1)} MiB (target < ${TARGETS.rssMb} MB)`);
    console.log(
      `  event-loop delay p50 ${r.eventLoopP50Ms} ms, p99 ${r.eventLoopP99Ms} ms, max ${r.eventLoopMaxMs} ms (target p99 < ${TARGETS.eventLoopP99Ms} ms)`,
    );
    console.log(
      `  peer: ${PEER.name}, ${PEER.monitors} monitors every ${PEER.intervalS} s (${peerChecksPerSecond}/s, half this rate): ` +
        `${(PEER.cpuShare * 100).toFixed(1)} % of a core (${peerCpuMsPerCheck.toFixed(2)} ms per check), RSS ${PEER.rssMibLow}–${PEER.rssMibHigh} MiB`,
    );
    console.log(`  CPU per check vs the peer: ${ratio} (lower is better)`);

    return {
      bench: 'probe-scale',
      figures: {
        monitors,
        interval_s: intervalS,
        measured_s: r.seconds,
        checks: r.checks,
        checks_per_s: r.checksPerSecond,
        failed: r.failed,
        skipped: r.skipped,
        cpu_share: r.cpuShare,
        cpu_system_share: r.cpuSystemShare,
        cpu_ms_per_check: r.cpuMsPerCheck,
        rss_mb: round(rssMb, 1),
        rss_mib: round(rssMib, 1),
        heap_used_mb: round(r.heapUsedBytes / 1e6, 1),
        event_loop_delay_p50_ms: r.eventLoopP50Ms,
        event_loop_delay_p99_ms: r.eventLoopP99Ms,
        event_loop_delay_max_ms: r.eventLoopMaxMs,
        start_lag_p99_ms: r.lagP99Ms,
      },
      reference: {
        peer: PEER.name,
        peer_monitors: PEER.monitors,
        peer_interval_s: PEER.intervalS,
        peer_checks_per_s: peerChecksPerSecond,
        peer_cpu_share: PEER.cpuShare,
        peer_cpu_ms_per_check: round(peerCpuMsPerCheck, 3),
        peer_rss_mib_low: PEER.rssMibLow,
        peer_rss_mib_high: PEER.rssMibHigh,
      },
      ratio,
      target: `cpu_share < ${TARGETS.cpuShare}, rss_mb < ${TARGETS.rssMb}, event_loop_delay_p99_ms < ${TARGETS.eventLoopP99Ms}, no failed checks (ratio: CPU per check vs ${PEER.name})`,
      pass,
    };
  } finally {
    await origin?.daemon.stop();
    await removeTempDir(dir);
  }
}

export const probeScale: Benchmark = {
  name: 'probe-scale',
  description: '1,000 HTTP monitors every 10 s in one process: CPU share, RSS, event-loop delay p99',
  run,
};

// The measured process: `node --import tsx bench/probe-scale.ts child` (config in BENCH_PROBE_CONFIG).
if (process.argv[2] === 'child' && import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const report = await runChild(JSON.parse(process.env.BENCH_PROBE_CONFIG ?? '{}') as ChildConfig);
  console.log(JSON.stringify(report));
  process.exit(0);
}
