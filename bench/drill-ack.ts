/**
 * drill-ack: how long a drill takes from the break to the first public acknowledgement with the
 * default playbook, beside the 10–15 minutes a prepared human team needs (12 minutes in the
 * playbook's case study). Runs the real demo (`keepwarm demo --port P`: the showroom with four
 * breakable entry points probed every 5 s, the default playbook, the default templates approved,
 * the mirror built and served, embedded SQLite in a temporary folder), then one drill per
 * scenario through the API, as `keepwarm drill` does, and reads each drill's scorecard.
 */
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DRILL_FILE } from '../src/drills/drill.command.js';
import type { DrillView } from '../src/drills/drills.service.js';
import { type DrillScenario, type Milestone, SCENARIOS } from '../src/drills/scorecard.js';
import { envNumber, round } from './lib/env.js';
import { httpJson } from './lib/http.js';
import { LOOPBACK } from './lib/ports.js';
import { cleanEnv, type Daemon, makeTempDir, REPO_ROOT, removeTempDir, spawnDaemon, waitUntil } from './lib/process.js';
import { type Benchmark, type BenchResult, BenchUnavailable, type Figures } from './lib/types.js';

const CLI = join(REPO_ROOT, 'bin', 'keepwarm');
/** The playbook's case study: a prepared team acknowledged publicly 12 minutes after the break. */
const CASE_STUDY_S = 12 * 60;
/** What a prepared human team needs: 10 to 15 minutes. */
const PREPARED_TEAM_S = [10 * 60, 15 * 60] as const;
const TARGET_S = 60;

interface Health {
  components: Array<{
    name: string;
    status: string;
    monitors: Array<{ regions: Array<{ state: string }> }>;
  }>;
}

const loads = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

/** Is this loopback port free right now? */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: LOOPBACK, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * A port P with P+1 and P+2 free too: the demo listens on P (Keepwarm), P+1 (the mirror) and P+2
 * (the showroom), as `npm start` does on 8080–8082. (With --port 0 the public URL names port 0.)
 */
async function freePortRun(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 40_000);
    if ((await portFree(base)) && (await portFree(base + 1)) && (await portFree(base + 2))) return base;
  }
  throw new BenchUnavailable('no three consecutive free loopback ports');
}

function scenariosFromEnv(): DrillScenario[] {
  const raw = process.env.BENCH_SCENARIOS?.trim();
  if (!raw) return ['api', 'cdn', 'auth', 'third-party'];
  const picked = raw.split(/[\s,]+/).filter((s) => s !== '');
  const unknown = picked.filter((s) => !(SCENARIOS as readonly string[]).includes(s));
  if (unknown.length > 0 || picked.length === 0)
    throw new BenchUnavailable(`BENCH_SCENARIOS=${JSON.stringify(raw)}: pick from ${SCENARIOS.join(', ')}`);
  return [...new Set(picked)] as DrillScenario[];
}

const secondsOf = (drill: DrillView, key: Milestone): number | null =>
  drill.scorecard?.milestones.find((m) => m.key === key)?.seconds ?? null;

const show = (s: number | null) => (s === null ? 'not reached' : `${s.toFixed(1)} s`);

async function run(): Promise<BenchResult> {
  const scenarios = scenariosFromEnv();
  const holdS = envNumber('BENCH_HOLD', 10, { integer: true, min: 10 });
  const dir = await makeTempDir('keepwarm-bench-drill-');
  let demo: Daemon | null = null;
  try {
    console.log(`drill-ack: load average at start ${loads()}; scenarios ${scenarios.join(', ')}, hold ${holdS} s`);
    const started = performance.now();
    demo = spawnDaemon(
      'keepwarm demo',
      process.execPath,
      [CLI, 'demo', '--data-dir', dir, '--port', String(await freePortRun())],
      {
        env: cleanEnv(['KEEPWARM_']),
        logFile: join(dir, 'demo.log'),
      },
    );
    const daemon = demo;
    // The demo writes where it listens and an admin token once everything is seeded.
    let access: { url: string; token: string } | null = null;
    await waitUntil(
      `the demo's ${DRILL_FILE}`,
      async () => {
        access = JSON.parse(await readFile(join(dir, DRILL_FILE), 'utf8')) as { url: string; token: string };
        return typeof access?.url === 'string' && access.url.startsWith(`http://${LOOPBACK}:`);
      },
      { timeoutMs: 240_000, intervalMs: 250, daemon },
    );
    const { url, token } = access as unknown as { url: string; token: string };
    const api = <T>(method: string, path: string, payload?: unknown) =>
      httpJson<T>(`${url}${path}`, method, payload, { authorization: `Bearer ${token}` });
    // The monitor role picks the demo's monitors up within its reload period: every entry point
    // probed and up before the first break, as when someone runs a drill on a demo already running.
    await waitUntil(
      'every showroom monitor to report up',
      async () => {
        const health = await api<Health>('GET', '/api/v1/health');
        const probed = health.components.filter((c) => c.monitors.length > 0);
        return (
          probed.length >= 5 &&
          probed.every((c) => c.status === 'operational' && c.monitors.every((m) => m.regions.some((r) => r.state === 'up')))
        );
      },
      { timeoutMs: 120_000, intervalMs: 500, daemon },
    );
    console.log(`  demo ready after ${((performance.now() - started) / 1000).toFixed(1)} s at ${url}`);

    const drills: DrillView[] = [];
    for (const scenario of scenarios) {
      let drill = await api<DrillView>('POST', '/api/v1/drills', { scenario, hold_seconds: holdS });
      // At worst: the declaration timeout (5 min), the response grace (3 min) and the recovery wait (2 min).
      const deadline = Date.now() + 12 * 60_000;
      while (drill.state === 'running' || drill.state === 'restoring') {
        if (daemon.hasExited()) throw new BenchUnavailable(`the demo exited during the ${scenario} drill: ${daemon.logTail()}`);
        if (Date.now() > deadline) throw new Error(`the ${scenario} drill did not finish within 12 minutes`);
        await sleep(500);
        drill = await api<DrillView>('GET', `/api/v1/drills/${encodeURIComponent(drill.id)}`);
      }
      drills.push(drill);
      const card = drill.scorecard;
      console.log(
        `  ${scenario.padEnd(11)} ${drill.state}: detect ${show(secondsOf(drill, 'detect'))}, declare ${show(secondsOf(drill, 'declare'))}, ` +
          `acknowledge ${show(secondsOf(drill, 'acknowledge'))}, fallback live ${show(secondsOf(drill, 'fallback'))}, ` +
          `first Tier A task ${show(secondsOf(drill, 'tier_a_task'))}; score ${card?.score ?? '-'}/100` +
          (card
            ? `, ${card.messages.total} messages, ${card.cadence.updates} public updates, checklist ${card.checklist.done}/${card.checklist.total}`
            : '') +
          (drill.error ? ` (${drill.error})` : ''),
      );
    }

    const acks = drills.map((d) => secondsOf(d, 'acknowledge'));
    const head = drills[0] as DrillView;
    const headAck = acks[0] ?? null;
    const reached = acks.filter((a): a is number => a !== null);
    const worst = reached.length === acks.length ? Math.max(...reached) : null;
    const ratio = headAck === null ? null : round(headAck / CASE_STUDY_S, 4);
    console.log(
      `  first public acknowledgement (${head.scenario}): ${show(headAck)} vs a prepared team's ${PREPARED_TEAM_S[0] / 60}–${PREPARED_TEAM_S[1] / 60} min ` +
        `(${CASE_STUDY_S / 60} min in the case study): ratio ${ratio ?? '-'}` +
        (headAck === null ? '' : `, ${(CASE_STUDY_S / headAck).toFixed(1)}× faster`) +
        `; slowest scenario ${show(worst)} (target < ${TARGET_S} s)`,
    );
    console.log(`  load average at end ${loads()}`);

    const figures: Figures = {
      scenario: head.scenario,
      hold_s: holdS,
      ack_s: headAck,
      detect_s: secondsOf(head, 'detect'),
      declare_s: secondsOf(head, 'declare'),
      fallback_s: secondsOf(head, 'fallback'),
      tier_a_task_s: secondsOf(head, 'tier_a_task'),
      score: head.scorecard?.score ?? null,
      ack_s_max: worst,
    };
    for (const d of drills) figures[`ack_s_${d.scenario}`] = secondsOf(d, 'acknowledge');
    figures.load_avg = loads();
    return {
      bench: 'drill-ack',
      figures,
      reference: {
        case_study_s: CASE_STUDY_S,
        prepared_team_min_s: PREPARED_TEAM_S[0],
        prepared_team_max_s: PREPARED_TEAM_S[1],
      },
      ratio,
      target: `first public acknowledgement < ${TARGET_S} s after the break, every scenario (ratio = seconds / ${CASE_STUDY_S})`,
      pass: worst !== null && worst < TARGET_S && drills.every((d) => d.state === 'done'),
    };
  } finally {
    await demo?.stop(10_000);
    await removeTempDir(dir);
  }
}

export const drillAck: Benchmark = {
  name: 'drill-ack',
  description: 'demo drill: break → first public acknowledgement (default playbook) vs a prepared team’s 12 min',
  run,
};
