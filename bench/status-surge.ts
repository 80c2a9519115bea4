import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { type AcceptQueueReport, watchAcceptQueue } from './lib/accept-queue.js';
import { cpuBetween, sampleCpu } from './lib/cpu.js';
import { envNumber, formatInt, median, round } from './lib/env.js';
import { httpRequest } from './lib/http.js';
import { type KeepwarmServer, startKeepwarm } from './lib/keepwarm.js';
import { type Nginx, startNginx } from './lib/nginx.js';
import { makeTempDir, removeTempDir, requireExecutable, waitUntil } from './lib/process.js';
import { seedOutage } from './lib/seed.js';
import { type StaticNode, startStaticNode } from './lib/static-node.js';
import { type Benchmark, type BenchResult, BenchUnavailable } from './lib/types.js';
import { runWrk, type WrkResult, wrkErrorCount } from './lib/wrk.js';

const PATH = '/api/v2/summary.json';
/** The second comparison: the status page as published to a folder (served by nginx) vs served live. */
const LIVE_PAGE = '/status';
const PUBLISHED_PAGE = '/index.html';
/** The last seeded text: the published page shows it once the seed's final change is published. */
const LAST_SEEDED = 'failing over';
const TARGET_RATIO = 0.5;
const TARGET_P99_MS = 50;

interface Side {
  name: 'keepwarm' | 'nginx' | 'node';
  url: string;
  /** The server's process (tree root), for CPU accounting. */
  pid: number | undefined;
  port: number;
  runs: WrkResult[];
  /** Connections waiting to be accepted during each run (null: no /proc). */
  acceptQueue: Array<AcceptQueueReport | null>;
  /** CPU accounting of each run (null: no /proc). */
  cpu: Array<RunCpu | null>;
}

/** Cores used during one run: the server, wrk, everything else, and what the hypervisor withheld. */
interface RunCpu {
  server: number;
  wrk: number;
  others: number;
  steal: number;
}

/** Other processes (or steal) above this many cores during a run make its figures unreliable. */
const NOISY_CORES = 0.25;

function describe(r: WrkResult): string {
  const p = r.latency.percentilesMs;
  const errors = wrkErrorCount(r);
  return (
    `${formatInt(r.rps).padStart(8)} req/s  p50 ${fmtMs(p[50])}  p90 ${fmtMs(p[90])}  p99 ${fmtMs(p[99])}  max ${fmtMs(r.latency.maxMs)}` +
    `  ${formatInt(r.requests)} requests${errors > 0 ? `  ERRORS ${errors} (non-2xx ${r.non2xx3xx}, timeouts ${r.errors.timeout}, socket ${r.errors.connect + r.errors.read + r.errors.write})` : ''}`
  );
}

function fmtMs(ms: number | undefined): string {
  return ms === undefined ? '?' : `${ms < 10 ? ms.toFixed(2) : ms.toFixed(1)} ms`;
}

function describeCpu(c: RunCpu | null): string {
  if (!c) return '';
  const noisy = c.others > NOISY_CORES || c.steal > NOISY_CORES;
  return `  cpu: server ${c.server.toFixed(2)} cores, wrk ${c.wrk.toFixed(2)}, others ${c.others.toFixed(2)}, steal ${c.steal.toFixed(2)}${noisy ? ' (NOISY)' : ''}`;
}

function describeQueue(q: AcceptQueueReport | null): string {
  if (!q || q.max === 0) return '';
  return `  accept queue: up to ${q.max} waiting, drained after ${(q.drainedAfterMs / 1000).toFixed(1)} s`;
}

function queueOf(side: Side, pick: (q: AcceptQueueReport) => number): number | null {
  if (side.acceptQueue.length === 0 || side.acceptQueue.some((q) => q === null)) return null;
  return Math.max(...(side.acceptQueue as AcceptQueueReport[]).map(pick));
}

function cpuOf(side: Side, pick: (c: RunCpu) => number, combine: (values: number[]) => number): number | null {
  if (side.cpu.length === 0 || side.cpu.some((c) => c === null)) return null;
  return combine((side.cpu as RunCpu[]).map(pick));
}

const maxOf = (values: number[]) => Math.max(...values);

function summarise(side: Side) {
  const p99 = side.runs.map((r) => r.latency.percentilesMs[99]);
  if (p99.some((v) => v === undefined)) throw new BenchUnavailable(`wrk reported no 99% latency for ${side.name}`);
  return {
    rps: median(side.runs.map((r) => r.rps)),
    p50: median(side.runs.map((r) => r.latency.percentilesMs[50] ?? Number.NaN)),
    p99: median(p99 as number[]),
    errors: side.runs.reduce((n, r) => n + wrkErrorCount(r), 0),
    cpu: cpuOf(side, (c) => c.server, median),
    others: cpuOf(side, (c) => c.others, maxOf),
    steal: cpuOf(side, (c) => c.steal, maxOf),
    queueMax: queueOf(side, (q) => q.max),
    queueDrainMs: queueOf(side, (q) => q.drainedAfterMs),
  };
}

async function run(): Promise<BenchResult> {
  const durationSec = envNumber('BENCH_DURATION', 10, { integer: true });
  const connections = envNumber('BENCH_CONNECTIONS', 256, { integer: true });
  const warmupSec = envNumber('BENCH_WARMUP', 2, { integer: true, min: 0 });
  const rounds = envNumber('BENCH_ROUNDS', 1, { integer: true });
  // Like nginx's `worker_processes auto`: one web process per core (keepwarm start --web-processes).
  const webProcesses = envNumber('BENCH_WEB_PROCESSES', availableParallelism(), { integer: true });
  const threads = Math.min(2, connections);
  const wrk = requireExecutable('wrk', 'WRK_BIN', 'apt-get install wrk');
  requireExecutable('nginx', 'NGINX_BIN', 'apt-get install nginx-light');

  const work = await makeTempDir('keepwarm-bench-status-surge-');
  const docRoot = await makeTempDir('keepwarm-bench-docroot-');
  const publishRoot = await makeTempDir('keepwarm-bench-published-');
  await chmod(publishRoot, 0o755); // nginx workers may run as nobody
  let kw: KeepwarmServer | null = null;
  let nginx: Nginx | null = null;
  let bare: StaticNode | null = null;
  let published: Nginx | null = null;
  try {
    const dataDir = join(work, 'keepwarm');
    await mkdir(dataDir);
    // The status site is also published to a folder (the second comparison serves it with nginx).
    const site = join(publishRoot, 'site');
    const config = join(work, 'keepwarm.yaml');
    await writeFile(config, JSON.stringify({ status: { targets: [{ type: 'folder', name: 'site', path: site }] } }));
    kw = await startKeepwarm({
      dataDir,
      extraArgs: ['--web-processes', String(webProcesses)],
      env: { KEEPWARM_CONFIG: config },
    });
    await approveTemplates(kw);
    await seedOutage(kw);
    // Let the seed's publishes settle before measuring anything.
    await waitUntil(
      'the seeded outage on the published status page',
      async () => (await readFile(join(site, 'index.html'), 'utf8').catch(() => '')).includes(LAST_SEEDED),
      { timeoutMs: 30_000, intervalMs: 100, daemon: kw.daemon },
    );

    // The exact bytes Keepwarm serves (no Accept-Encoding: wrk sends none either), served by nginx.
    const original = await httpRequest(`${kw.url}${PATH}`);
    if (original.status !== 200 || original.headers['content-encoding']) {
      throw new BenchUnavailable(`${PATH} answered ${original.status} ${original.headers['content-encoding'] ?? ''}`.trim());
    }
    const summary = JSON.parse(original.body.toString('utf8')) as { components?: unknown[]; incidents?: unknown[] };
    await mkdir(join(docRoot, 'api', 'v2'), { recursive: true });
    await writeFile(join(docRoot, 'api', 'v2', 'summary.json'), original.body);
    const prefix = join(work, 'nginx');
    await mkdir(prefix);
    nginx = await startNginx({ prefix, docRoot });
    const copy = await httpRequest(`${nginx.url}${PATH}`);
    if (copy.status !== 200 || !copy.body.equals(original.body)) {
      throw new BenchUnavailable(
        `nginx does not serve the same bytes (status ${copy.status}, ${copy.body.length} bytes): ${nginx.daemon.logTail()}`,
      );
    }

    bare = await startStaticNode({
      file: join(docRoot, 'api', 'v2', 'summary.json'),
      processes: webProcesses,
      logFile: join(work, 'static-node.log'),
    });

    console.log(
      `status-surge: GET ${PATH}, ${formatInt(original.body.length)} bytes (identity), ` +
        `${summary.components?.length ?? '?'} components (groups included), ${summary.incidents?.length ?? '?'} unresolved incidents`,
    );
    console.log(
      `  wrk -t${threads} -c${connections} -d${durationSec}s --latency, ${rounds} round(s) alternating after a ${warmupSec} s warm-up each; ` +
        `wrk, nginx (worker_processes auto), Keepwarm and a bare node:http server (${webProcesses} process(es) each) share the machine`,
    );

    const sides: Side[] = [
      { name: 'keepwarm', url: `${kw.url}${PATH}`, pid: kw.daemon.child.pid, port: kw.port, runs: [], acceptQueue: [], cpu: [] },
      {
        name: 'nginx',
        url: `${nginx.url}${PATH}`,
        pid: nginx.daemon.child.pid,
        port: nginx.port,
        runs: [],
        acceptQueue: [],
        cpu: [],
      },
      {
        name: 'node',
        url: `${bare.url}${PATH}`,
        pid: bare.daemon.child.pid,
        port: bare.port,
        runs: [],
        acceptQueue: [],
        cpu: [],
      },
    ];
    if (warmupSec > 0) {
      for (const side of sides) await runWrk(wrk, { url: side.url, threads, connections, durationSec: warmupSec });
    }
    for (let roundNo = 1; roundNo <= rounds; roundNo++) {
      for (const side of sides) {
        const roots = side.pid === undefined ? [] : [side.pid];
        const before = sampleCpu(roots);
        const queue = watchAcceptQueue(side.port);
        let result: WrkResult;
        let acceptQueue: AcceptQueueReport | null;
        try {
          result = await runWrk(wrk, { url: side.url, threads, connections, durationSec });
        } finally {
          acceptQueue = queue.stop();
        }
        const cpu = cpuBetween(before, sampleCpu(roots));
        const server = cpu && side.pid !== undefined ? cpu.trees.get(side.pid) : undefined;
        const runCpu = cpu && server !== undefined ? { server, wrk: cpu.self, others: cpu.others, steal: cpu.steal } : null;
        side.runs.push(result);
        side.cpu.push(runCpu);
        side.acceptQueue.push(acceptQueue);
        console.log(
          `  ${side.name.padEnd(8)} ${rounds > 1 ? `#${roundNo} ` : ''}${describe(result)}${describeCpu(runCpu)}${describeQueue(acceptQueue)}`,
        );
      }
    }
    if (kw.daemon.hasExited()) throw new BenchUnavailable(`keepwarm exited during the run: ${kw.daemon.logTail()}`);

    const k = summarise(sides[0] as Side);
    const n = summarise(sides[1] as Side);
    const floor = summarise(sides[2] as Side);
    if (!(n.rps > 0)) throw new BenchUnavailable('nginx answered no requests; the reference is missing');
    const ratio = round(k.rps / n.rps, 3);
    const pass = ratio >= TARGET_RATIO && k.p99 <= TARGET_P99_MS && k.errors === 0;
    const others = k.others === null || n.others === null ? null : Math.max(k.others, n.others);
    const steal = k.steal === null || n.steal === null ? null : Math.max(k.steal, n.steal);
    if ((others ?? 0) > NOISY_CORES || (steal ?? 0) > NOISY_CORES) {
      console.log(
        `  WARNING: during the runs other processes used up to ${(others ?? 0).toFixed(2)} and the hypervisor withheld up to ` +
          `${(steal ?? 0).toFixed(2)} of ${availableParallelism()} cores; the figures are not reliable`,
      );
    }
    if (rounds > 1)
      console.log(
        `  medians: keepwarm ${formatInt(k.rps)} req/s p99 ${fmtMs(k.p99)}; nginx ${formatInt(n.rps)} req/s p99 ${fmtMs(n.p99)}`,
      );
    console.log(
      `  bare node:http floor ${formatInt(floor.rps)} req/s p99 ${fmtMs(floor.p99)}: ` +
        `nginx/node ${(floor.rps / n.rps).toFixed(3)}, keepwarm/node ${(k.rps / floor.rps).toFixed(3)}`,
    );
    console.log(
      `  ratio keepwarm/nginx ${ratio.toFixed(3)}, keepwarm p99 ${fmtMs(k.p99)}${k.errors > 0 ? `, ${k.errors} errors` : ''}: ` +
        `${pass ? 'PASS' : 'MISS'} (target ratio >= ${TARGET_RATIO} and p99 <= ${TARGET_P99_MS} ms, no errors)`,
    );

    // Second comparison: the status page as published to a folder, served by nginx, vs Keepwarm's live page.
    published = await startNginx({ prefix: join(work, 'nginx-published'), docRoot: site });
    const page = await comparePublishedPage({ kw, nginx: published, wrk, threads, connections, durationSec, warmupSec, rounds });

    return {
      bench: 'status-surge',
      figures: {
        keepwarm_rps: round(k.rps, 0),
        keepwarm_p99_ms: round(k.p99, 2),
        nginx_rps: round(n.rps, 0),
        nginx_p99_ms: round(n.p99, 2),
        keepwarm_p50_ms: round(k.p50, 2),
        keepwarm_cpu_cores: k.cpu === null ? null : round(k.cpu, 2),
        nginx_cpu_cores: n.cpu === null ? null : round(n.cpu, 2),
        other_cpu_cores_max: others === null ? null : round(others, 2),
        steal_cpu_cores_max: steal === null ? null : round(steal, 2),
        keepwarm_accept_queue_max: k.queueMax,
        keepwarm_accept_drain_ms: k.queueDrainMs,
        nginx_accept_queue_max: n.queueMax,
        keepwarm_errors: k.errors,
        nginx_errors: n.errors,
        body_bytes: original.body.length,
        keepwarm_web_processes: webProcesses,
        node_floor_rps: round(floor.rps, 0),
        node_floor_p99_ms: round(floor.p99, 2),
        keepwarm_vs_node_floor: round(k.rps / floor.rps, 3),
        connections,
        duration_s: durationSec,
        rounds,
        status_page_live_rps: round(page.live.rps, 0),
        status_page_live_p99_ms: round(page.live.p99, 2),
        status_page_published_rps: round(page.published.rps, 0),
        status_page_published_p99_ms: round(page.published.p99, 2),
        status_page_live_vs_published: page.ratio,
        status_page_live_errors: page.live.errors,
        status_page_published_errors: page.published.errors,
        status_page_live_bytes: page.liveBytes,
        status_page_published_bytes: page.publishedBytes,
      },
      reference: {
        nginx_rps: round(n.rps, 0),
        nginx_p99_ms: round(n.p99, 2),
        status_page_published_rps: round(page.published.rps, 0),
        status_page_published_p99_ms: round(page.published.p99, 2),
      },
      ratio,
      target: `ratio >= ${TARGET_RATIO} and p99 <= ${TARGET_P99_MS} ms, no errors`,
      pass,
    };
  } finally {
    await published?.stop();
    await nginx?.stop();
    await bare?.stop();
    await kw?.stop();
    await removeTempDir(docRoot);
    await removeTempDir(publishRoot);
    await removeTempDir(work);
  }
}

/** Legal's part, done up front, as publish-latency does: approve the default notice templates. */
async function approveTemplates(kw: KeepwarmServer): Promise<void> {
  const { templates } = await kw.api<{ templates: Array<{ id: string; state: string }> }>('GET', '/api/v1/templates');
  for (const t of templates) {
    if (t.state === 'draft') await kw.api('POST', `/api/v1/templates/${t.id}/submit`, {});
    if (t.state === 'draft' || t.state === 'in_review') await kw.api('POST', `/api/v1/templates/${t.id}/approve`, {});
  }
}

/**
 * The status page HTML: nginx serving the published `index.html` from the folder target vs
 * Keepwarm's live `GET /status`, same wrk settings, alternating after a warm-up each.
 */
async function comparePublishedPage(o: {
  kw: KeepwarmServer;
  nginx: Nginx;
  wrk: string;
  threads: number;
  connections: number;
  durationSec: number;
  warmupSec: number;
  rounds: number;
}) {
  const live = await httpRequest(`${o.kw.url}${LIVE_PAGE}`);
  const copy = await httpRequest(`${o.nginx.url}${PUBLISHED_PAGE}`);
  for (const [what, res] of [
    ['live', live],
    ['published', copy],
  ] as const) {
    if (res.status !== 200 || res.headers['content-encoding'] || !res.body.toString('utf8').includes(LAST_SEEDED)) {
      throw new BenchUnavailable(`the ${what} status page answered ${res.status} without the seeded outage`);
    }
  }
  console.log(
    `status page: nginx serving the published ${PUBLISHED_PAGE} (${formatInt(copy.body.length)} bytes) vs Keepwarm's live ` +
      `GET ${LIVE_PAGE} (${formatInt(live.body.length)} bytes), same wrk settings`,
  );
  const sides: Array<{ name: 'published' | 'live'; url: string; runs: WrkResult[] }> = [
    { name: 'published', url: `${o.nginx.url}${PUBLISHED_PAGE}`, runs: [] },
    { name: 'live', url: `${o.kw.url}${LIVE_PAGE}`, runs: [] },
  ];
  const settings = { threads: o.threads, connections: o.connections };
  if (o.warmupSec > 0) {
    for (const side of sides) await runWrk(o.wrk, { url: side.url, ...settings, durationSec: o.warmupSec });
  }
  for (let roundNo = 1; roundNo <= o.rounds; roundNo++) {
    for (const side of sides) {
      const result = await runWrk(o.wrk, { url: side.url, ...settings, durationSec: o.durationSec });
      side.runs.push(result);
      console.log(`  ${side.name.padEnd(9)} ${o.rounds > 1 ? `#${roundNo} ` : ''}${describe(result)}`);
    }
  }
  if (o.kw.daemon.hasExited()) throw new BenchUnavailable(`keepwarm exited during the run: ${o.kw.daemon.logTail()}`);
  const figures = (runs: WrkResult[]) => {
    const p99 = runs.map((r) => r.latency.percentilesMs[99]);
    if (p99.some((v) => v === undefined)) throw new BenchUnavailable('wrk reported no 99% latency for the status page');
    return {
      rps: median(runs.map((r) => r.rps)),
      p99: median(p99 as number[]),
      errors: runs.reduce((n, r) => n + wrkErrorCount(r), 0),
    };
  };
  const pub = figures((sides[0] as (typeof sides)[number]).runs);
  const liv = figures((sides[1] as (typeof sides)[number]).runs);
  if (!(pub.rps > 0)) throw new BenchUnavailable('nginx answered no requests for the published page');
  const ratio = round(liv.rps / pub.rps, 3);
  console.log(
    `  ${o.rounds > 1 ? 'medians: ' : ''}published (nginx) ${formatInt(pub.rps)} req/s p99 ${fmtMs(pub.p99)}; ` +
      `live (Keepwarm) ${formatInt(liv.rps)} req/s p99 ${fmtMs(liv.p99)}; ratio live/published ${ratio.toFixed(3)}` +
      `${liv.errors + pub.errors > 0 ? ` (errors: live ${liv.errors}, published ${pub.errors})` : ''}`,
  );
  return { live: liv, published: pub, ratio, liveBytes: live.body.length, publishedBytes: copy.body.length };
}

export const statusSurge: Benchmark = {
  name: 'status-surge',
  description: `GET ${PATH} at ${TARGET_RATIO}x nginx throughput or better, p99 <= ${TARGET_P99_MS} ms, 256 connections (wrk)`,
  run,
};
