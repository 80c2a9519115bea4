/**
 * cadence-replay: how often did a real, well-run status page go quiet for longer than an hour,
 * and how often would it with Keepwarm's cadence keeping the promise?
 *
 * Input: the GitHub Status history (819 incidents, 2022-03..2026-08, every public update with its
 * time) from the shared fixtures. A gap is the time between two consecutive public updates of one
 * incident, in time order, counting every update including the first (Investigating) and the last
 * (Resolved / Completed): the silence before resolution is the gap to the resolving update. An
 * incident whose resolution time is later than its last update gets one more gap, to resolution.
 * A gap longer than 60 minutes is late.
 *
 * Replay: each incident through Keepwarm's cadence rules (src/status/cadence/cadence.ts) with the
 * default config and holding updates on (promise 60 min): declared at its first real update, the
 * real updates at their real times, and a holding update at every deadline that passes while the
 * incident is open, exactly as the `cadence.check` job decides. Then the same share is measured.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cadenceFigures, cadenceRules, replayWithHoldingUpdates } from '../src/status/cadence/cadence.js';
import { round } from './lib/env.js';
import { type Benchmark, type BenchResult, BenchUnavailable } from './lib/types.js';

const REPO_ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const PROMISE_MINUTES = 60;

function incidentsFile(): string {
  if (process.env.BENCH_INCIDENTS_FILE) return resolve(process.env.BENCH_INCIDENTS_FILE);
  const fixtures = process.env.KEEPWARM_TEST_FIXTURES
    ? resolve(process.env.KEEPWARM_TEST_FIXTURES)
    : join(REPO_ROOT, '..', 'shared', 'fixtures');
  return join(fixtures, 'incidents', 'githubstatus_incidents.jsonl');
}

interface HistoryIncident {
  id: string;
  impact: string | null;
  resolved_at: string | null;
  updates: Array<{ at: string; status: string }>;
}

function readHistory(path: string): HistoryIncident[] {
  if (!existsSync(path)) {
    throw new BenchUnavailable(
      `no incident history at ${path} (set BENCH_INCIDENTS_FILE, or KEEPWARM_TEST_FIXTURES to the shared fixtures folder)`,
    );
  }
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, i) => {
      try {
        return JSON.parse(line) as HistoryIncident;
      } catch {
        throw new BenchUnavailable(`${path}: line ${i + 1} is not JSON`);
      }
    });
}

async function run(): Promise<BenchResult> {
  const path = incidentsFile();
  const history = readHistory(path);
  const rules = cadenceRules({
    acknowledgeMinutes: 15,
    promiseMinutes: PROMISE_MINUTES,
    targetMinutes: 30,
    remindMinutesBefore: 5,
  });
  const started = performance.now();

  let realGaps = 0;
  let realLate = 0;
  let kwGaps = 0;
  let kwLate = 0;
  let holding = 0;
  let realUpdates = 0;
  let incidentsWithHolding = 0;
  let maintenanceHolding = 0;
  let replayed = 0;
  for (const incident of history) {
    const updates = incident.updates.map((u) => Date.parse(u.at)).filter(Number.isFinite);
    if (updates.length === 0) continue;
    updates.sort((a, b) => a - b);
    replayed++;
    realUpdates += updates.length;
    const first = updates[0] as number;
    const last = updates[updates.length - 1] as number;
    const resolvedAt = incident.resolved_at ? Date.parse(incident.resolved_at) : last;
    const endAt = Math.max(last, Number.isFinite(resolvedAt) ? resolvedAt : last);

    const real = cadenceFigures({ declaredAt: first, updates, resolvedAt: endAt }, rules, endAt);
    realGaps += real.gaps;
    realLate += real.lateUpdates;

    const inserted = replayWithHoldingUpdates({ declaredAt: first, updates, endAt }, rules);
    const kw = cadenceFigures({ declaredAt: first, updates: [...updates, ...inserted], resolvedAt: endAt }, rules, endAt);
    kwGaps += kw.gaps;
    kwLate += kw.lateUpdates;
    holding += inserted.length;
    if (inserted.length > 0) incidentsWithHolding++;
    if (incident.impact === 'maintenance') maintenanceHolding += inserted.length;
  }
  const ms = performance.now() - started;
  const realShare = realGaps > 0 ? (100 * realLate) / realGaps : 0;
  const kwShare = kwGaps > 0 ? (100 * kwLate) / kwGaps : 0;

  console.log(`cadence-replay: ${replayed} incidents, ${realUpdates} public updates (${path.split('/').slice(-2).join('/')})`);
  console.log(`  real history:  ${realLate} of ${realGaps} gaps longer than ${PROMISE_MINUTES} min = ${realShare.toFixed(2)} %`);
  console.log(
    `  with Keepwarm: ${kwLate} of ${kwGaps} gaps longer than ${PROMISE_MINUTES} min = ${kwShare.toFixed(2)} %` +
      ` (${holding} holding updates in ${incidentsWithHolding} incidents; ${maintenanceHolding} of them in scheduled maintenance)`,
  );
  console.log(`  replayed in ${ms.toFixed(0)} ms`);

  return {
    bench: 'cadence-replay',
    figures: {
      incidents: replayed,
      real_updates: realUpdates,
      gaps_real: realGaps,
      late_real: realLate,
      late_share_real_pct: round(realShare, 2),
      gaps_keepwarm: kwGaps,
      late_keepwarm: kwLate,
      late_share_keepwarm_pct: round(kwShare, 2),
      holding_updates: holding,
      holding_updates_per_real_update: round(holding / Math.max(1, realUpdates), 3),
      incidents_with_holding: incidentsWithHolding,
      holding_in_maintenance: maintenanceHolding,
      replay_ms: round(ms, 1),
    },
    reference: { late_share_real_expected_pct: 8.1, promise_minutes: PROMISE_MINUTES },
    ratio: realShare > 0 ? round(kwShare / realShare, 4) : null,
    target: 'late_share_keepwarm_pct = 0 (no gap over the 60 min promise)',
    pass: kwLate === 0,
  };
}

export const cadenceReplay: Benchmark = {
  name: 'cadence-replay',
  description: 'real Statuspage history: share of update gaps > 60 min, then replayed with Keepwarm holding updates',
  run,
};
