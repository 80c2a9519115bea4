/**
 * Drills: break one entry point of a showroom, let detection and the playbook run in real time
 * (everything on a drill incident goes to sinks; the CRM and the live flags are simulated), then
 * restore it, resolve the drill incident and keep a scorecard per drill. A job steps each drill
 * once a second, so a drill survives a restart of the worker and two workers never both step it.
 */
import type { Logger } from 'pino';
import { request } from 'undici';
import { z } from 'zod';
import type { Actor } from '../app/actor.js';
import type { Config } from '../config/config.js';
import type { Clock } from '../core/clock.js';
import { conflict, errorMessage, unprocessable } from '../core/errors.js';
import { newId } from '../core/ids.js';
import { fromDbJson, toDbJson } from '../db/codec.js';
import type { Database, Executor } from '../db/database.js';
import type { JobQueue } from '../db/jobs/job-queue.js';
import { defineJob, type JobHandler } from '../db/jobs/worker.js';
import type { IncidentService } from '../incidents/incidents.service.js';
import type { CadenceService } from '../status/cadence/cadence.service.js';
import { computeScorecard, type DrillFacts, type DrillScenario, type Milestone, type Scorecard } from './scorecard.js';
import { type DrillTarget, HttpDrillTarget } from './target.js';

export const DRILL_STEP_JOB = 'drill.step';
const STEP_MS = 1000;
/** How long a drill waits for the declaration before it gives up (and restores). */
const DECLARE_TIMEOUT_MS = 5 * 60_000;
/** How long past the hold a drill keeps the entry point broken while the response is still under way. */
const RESPONSE_GRACE_MS = 3 * 60_000;
/** How long after the restore the drill waits for the components to be seen healthy. */
const RECOVERY_TIMEOUT_MS = 2 * 60_000;
const DRILL_ACTOR: Actor = { type: 'system', id: null, name: 'Keepwarm drill', role: 'admin', ip: null };

export interface DrillView {
  id: string;
  scenario: DrillScenario;
  target: string;
  state: 'running' | 'restoring' | 'done' | 'failed';
  started_at: string;
  broken_at: string | null;
  restored_at: string | null;
  finished_at: string | null;
  incident_id: string | null;
  hold_seconds: number;
  /** When each milestone was reached (ISO), as the drill runs. */
  progress: Record<Milestone, string | null>;
  scorecard: Scorecard | null;
  error: string | null;
}

/** Is the fallback live for buyers now? (The mirror answers, and the banner points at it.) */
export type FallbackProbe = (drill: { incidentId: string }) => Promise<boolean>;

const iso = (ms: number | null) => (ms === null ? null : new Date(Number(ms)).toISOString());

async function answers(url: string, check: (body: string) => boolean): Promise<boolean> {
  try {
    const res = await request(url, { headersTimeout: 2000, bodyTimeout: 2000 });
    const body = await res.body.text();
    return res.statusCode === 200 && check(body);
  } catch {
    return false;
  }
}

/** The default probe: the mirror's home page answers, and banner.json (when it shows drills) links the fallback. */
export function httpFallbackProbe(config: Config): FallbackProbe {
  const publicUrl = (config.publicUrl ?? `http://${config.host}:${config.port}`).replace(/\/$/, '');
  const mirror = config.fallback.mirrorUrl ?? config.status.fallbackUrl ?? null;
  return async ({ incidentId }) => {
    if (mirror === null) return false;
    if (!(await answers(mirror, (b) => b.includes('<main')))) return false;
    if (!config.status.includeDrills) return true; // the banner never shows drills: the mirror is what counts
    return answers(`${publicUrl}/status/banner.json`, (b) => {
      try {
        const doc = JSON.parse(b) as { active?: boolean; fallback_url?: string | null; incidents?: Array<{ id?: string }> };
        return (
          doc.active === true && typeof doc.fallback_url === 'string' && (doc.incidents ?? []).some((i) => i.id === incidentId)
        );
      } catch {
        return false;
      }
    });
  };
}

export class DrillService {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #jobs: JobQueue;
  readonly #incidents: IncidentService;
  readonly #cadence: () => CadenceService;
  #target: DrillTarget | null;
  #probe: FallbackProbe;

  constructor(deps: {
    db: Database;
    clock: Clock;
    log: Logger;
    jobs: JobQueue;
    incidents: IncidentService;
    cadence: () => CadenceService;
    config: Config;
  }) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#log = deps.log;
    this.#jobs = deps.jobs;
    this.#incidents = deps.incidents;
    this.#cadence = deps.cadence;
    const staging = deps.config.drill.staging;
    this.#target = staging ? new HttpDrillTarget(staging) : null;
    this.#probe = httpFallbackProbe(deps.config);
  }

  /** The demo registers its showroom here (in-process); a staging origin comes from config. */
  setTarget(target: DrillTarget | null): void {
    this.#target = target;
  }

  setFallbackProbe(probe: FallbackProbe): void {
    this.#probe = probe;
  }

  get target(): DrillTarget | null {
    return this.#target;
  }

  async start(actor: Actor, input: { scenario: DrillScenario; holdSeconds: number }): Promise<DrillView> {
    const target = this.#target;
    if (!target)
      throw unprocessable(
        'no_drill_target',
        'No showroom to drill: run the demo (`npm start`), or configure drill.staging (a staging origin with a control endpoint).',
      );
    const names = target.components(input.scenario);
    const components = names.length
      ? await this.#db.kysely
          .selectFrom('components')
          .select(['id', 'name'])
          .where('name', 'in', [...names])
          .execute()
      : [];
    if (components.length === 0)
      throw unprocessable(
        'no_drill_components',
        `The ${input.scenario} scenario names no known component (${names.join(', ') || 'none'}): add them in Components.`,
      );
    const now = this.#clock.now();
    const id = newId(now);
    await this.#db.tx(async (trx) => {
      const running = await trx
        .selectFrom('drills')
        .select('id')
        .where('state', 'in', ['running', 'restoring'])
        .executeTakeFirst();
      if (running) throw conflict('drill_running', `Drill ${running.id} is still running: one drill at a time.`);
      await trx
        .insertInto('drills')
        .values({
          id,
          scenario: input.scenario,
          target: target.name,
          state: 'running',
          component_ids: toDbJson(components.map((c) => c.id)),
          actor_name: actor.name,
          started_at: now,
          hold_ms: input.holdSeconds * 1000,
        })
        .execute();
      await this.#jobs.enqueue(trx, { kind: DRILL_STEP_JOB, payload: { id }, key: `${DRILL_STEP_JOB}@${id}` });
    });
    return (await this.get(id)) as DrillView;
  }

  /** A running drill covering any of these components (detection marks its incident as a drill). */
  async activeFor(ex: Executor, componentIds: readonly string[]): Promise<{ id: string } | null> {
    if (componentIds.length === 0) return null;
    const rows = await ex.selectFrom('drills').select(['id', 'component_ids']).where('state', '=', 'running').execute();
    const hit = rows.find((r) => fromDbJson<string[]>(r.component_ids, []).some((c) => componentIds.includes(c)));
    return hit ? { id: hit.id } : null;
  }

  async get(id: string): Promise<DrillView | null> {
    const row = await this.#db.kysely.selectFrom('drills').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? view(row) : null;
  }

  async list(limit = 50): Promise<DrillView[]> {
    const rows = await this.#db.kysely
      .selectFrom('drills')
      .selectAll()
      .orderBy('started_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.map(view);
  }

  jobHandlers(): JobHandler[] {
    return [
      defineJob({
        kind: DRILL_STEP_JOB,
        payload: z.object({ id: z.string().min(1) }),
        run: async ({ id }) => {
          const next = await this.#step(id);
          return next === null ? undefined : { rescheduleAt: next };
        },
      }),
    ];
  }

  /** One step; returns when to step again (null: the drill is over). */
  async #step(id: string): Promise<number | null> {
    const db = this.#db.kysely;
    const d = await db.selectFrom('drills').selectAll().where('id', '=', id).executeTakeFirst();
    if (!d || d.state === 'done' || d.state === 'failed') return null;
    const now = this.#clock.now();
    const scenario = d.scenario as DrillScenario;
    const target = this.#target;
    if (!target || target.name !== d.target) {
      await this.#finish(id, 'failed', `The drilled showroom (${d.target}) is no longer reachable from this Keepwarm process.`);
      return null;
    }
    if (d.broken_at === null) {
      try {
        await target.break(scenario);
      } catch (err) {
        await this.#finish(id, 'failed', `Breaking ${scenario} failed: ${errorMessage(err)}`);
        return null;
      }
      await db.updateTable('drills').set({ broken_at: this.#clock.now() }).where('id', '=', id).execute();
      this.#log.warn({ drill: id, scenario }, 'drill: entry point broken');
      return now + STEP_MS;
    }
    const brokenAt = Number(d.broken_at);
    const componentIds = fromDbJson<string[]>(d.component_ids, []);
    const milestones = await this.#milestones(d.id, brokenAt, componentIds, d.incident_id);
    if (
      milestones.incidentId &&
      d.fallback_live_at === null &&
      (await this.#probe({ incidentId: milestones.incidentId }).catch(() => false))
    ) {
      milestones.fallback_live_at = this.#clock.now();
    }
    await db
      .updateTable('drills')
      .set({
        incident_id: milestones.incidentId,
        detected_at: milestones.detected_at,
        declared_at: milestones.declared_at,
        acknowledged_at: milestones.acknowledged_at,
        tier_a_task_at: milestones.tier_a_task_at,
        ...(milestones.fallback_live_at !== undefined && { fallback_live_at: milestones.fallback_live_at }),
      })
      .where('id', '=', id)
      .execute();

    if (d.state === 'running') {
      // The outage lasts at least the hold, and until the response has had its chance: declared,
      // acknowledged and the fallback live (or a grace period more), or no declaration at all.
      const elapsed = now - brokenAt;
      const held = elapsed >= Number(d.hold_ms);
      const responded =
        milestones.declared_at !== null &&
        milestones.acknowledged_at !== null &&
        (milestones.fallback_live_at ?? d.fallback_live_at) !== null;
      const gaveUp = milestones.declared_at === null && elapsed >= DECLARE_TIMEOUT_MS;
      const graceOver = elapsed >= Number(d.hold_ms) + RESPONSE_GRACE_MS;
      if (!gaveUp && !(held && (responded || graceOver))) return now + STEP_MS;
      try {
        await target.restore(scenario);
      } catch (err) {
        await this.#finish(id, 'failed', `Restoring ${scenario} failed: ${errorMessage(err)}. Restore it by hand.`);
        return null;
      }
      await db
        .updateTable('drills')
        .set({
          state: 'restoring',
          restored_at: this.#clock.now(),
          ...(gaveUp && { error: `No incident was declared within ${DECLARE_TIMEOUT_MS / 60_000} minutes of the break.` }),
        })
        .where('id', '=', id)
        .execute();
      this.#log.warn({ drill: id, scenario }, 'drill: entry point restored');
      return now + STEP_MS;
    }
    // Restoring: wait until the components are seen healthy, then close the drill incident.
    const unhealthy = await db
      .selectFrom('component_health')
      .select('component_id')
      .where('component_id', 'in', componentIds.length ? componentIds : ['-'])
      .where('status', '!=', 'operational')
      .execute();
    const waited = now - Number(d.restored_at ?? now);
    if (unhealthy.length > 0 && waited < RECOVERY_TIMEOUT_MS) return now + STEP_MS;
    if (milestones.incidentId) {
      const incident = await db
        .selectFrom('incidents')
        .select(['status', 'drill'])
        .where('id', '=', milestones.incidentId)
        .executeTakeFirst();
      if (incident && incident.status !== 'resolved') {
        await this.#incidents.postUpdate(DRILL_ACTOR, milestones.incidentId, {
          status: 'resolved',
          message: `Drill over: the ${scenario} entry point is restored${unhealthy.length ? ' (some checks were still failing when the drill ended)' : ' and every check passes again'}.`,
        });
      }
    }
    await this.#finish(id, 'done', d.error);
    return null;
  }

  async #milestones(drillId: string, brokenAt: number, componentIds: string[], known: string | null) {
    const db = this.#db.kysely;
    let incidentId = known;
    if (!incidentId && componentIds.length) {
      const found = await db
        .selectFrom('incidents')
        .innerJoin('incident_components', 'incident_components.incident_id', 'incidents.id')
        .select('incidents.id')
        .where('incidents.drill', '=', 1)
        .where('incidents.declared_at', '>=', brokenAt)
        .where('incident_components.component_id', 'in', componentIds)
        .orderBy('incidents.declared_at')
        .limit(1)
        .executeTakeFirst();
      incidentId = found?.id ?? null;
    }
    const detection = await db
      .selectFrom('detections')
      .select(['created_at', 'components'])
      .where('created_at', '>=', brokenAt)
      .orderBy('created_at')
      .execute();
    const detected = detection.find((row) =>
      fromDbJson<Array<{ id: string }>>(row.components, []).some((c) => componentIds.includes(c.id)),
    );
    const incident = incidentId
      ? await db.selectFrom('incidents').select(['declared_at']).where('id', '=', incidentId).executeTakeFirst()
      : undefined;
    // The first public update, as the cadence counts it (one definition of "acknowledged").
    const acknowledged = incidentId ? (await this.#cadence().forIncident(incidentId)).acknowledged_at : null;
    const task = incidentId
      ? await db
          .selectFrom('tasks')
          .select((eb) => eb.fn.min('created_at').as('first'))
          .where('incident_id', '=', incidentId)
          .where('kind', '=', 'call_now')
          .executeTakeFirst()
      : undefined;
    this.#log.debug({ drill: drillId, incidentId }, 'drill step');
    return {
      incidentId,
      detected_at: detected ? Number(detected.created_at) : null,
      declared_at: incident ? Number(incident.declared_at) : null,
      acknowledged_at: acknowledged === null ? null : Date.parse(acknowledged),
      tier_a_task_at: task?.first == null ? null : Number(task.first),
      fallback_live_at: undefined as number | undefined,
    };
  }

  async #finish(id: string, state: 'done' | 'failed', error: string | null): Promise<void> {
    const db = this.#db.kysely;
    const d = await db.selectFrom('drills').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const scorecard = computeScorecard(await this.#facts(d));
    await db
      .updateTable('drills')
      .set({ state, finished_at: this.#clock.now(), scorecard: toDbJson(scorecard), error })
      .where('id', '=', id)
      .execute();
    this.#log.warn({ drill: id, state, score: scorecard.score }, 'drill finished');
  }

  async #facts(d: {
    scenario: string;
    broken_at: number | null;
    started_at: number;
    restored_at: number | null;
    incident_id: string | null;
    detected_at: number | null;
    declared_at: number | null;
    acknowledged_at: number | null;
    fallback_live_at: number | null;
    tier_a_task_at: number | null;
  }): Promise<DrillFacts> {
    const db = this.#db.kysely;
    const incidentId = d.incident_id;
    const messages = incidentId
      ? await db
          .selectFrom('messages')
          .select(['channel', 'metadata', (eb) => eb.fn.countAll<number>().as('n')])
          .where('incident_id', '=', incidentId)
          .groupBy(['channel', 'metadata'])
          .execute()
      : [];
    const grouped = new Map<string, { channel: string; tier: string | null; count: number }>();
    for (const m of messages) {
      const tier = (fromDbJson<Record<string, unknown>>(m.metadata as string | null, {}).tier as string | undefined) ?? null;
      const key = `${m.channel}\u0000${tier ?? ''}`;
      const entry = grouped.get(key) ?? { channel: m.channel, tier, count: 0 };
      entry.count += Number(m.n);
      grouped.set(key, entry);
    }
    let cadence: DrillFacts['cadence'] = { ackSeconds: null, longestGapSeconds: null, lateUpdates: 0, updates: 0 };
    let checklist: DrillFacts['checklist'] = { total: 0, done: 0, onTime: 0 };
    let tierALeads = 0;
    if (incidentId) {
      const c = await this.#cadence().forIncident(incidentId);
      const updates = await db
        .selectFrom('incident_events')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('incident_id', '=', incidentId)
        .where('public', '=', 1)
        .where('type', '=', 'update.published')
        .executeTakeFirst();
      cadence = {
        ackSeconds: c.figures.ack_seconds,
        longestGapSeconds: c.figures.longest_gap_seconds,
        lateUpdates: c.figures.late_updates,
        updates: Number(updates?.n ?? 0),
      };
      const items = await db.selectFrom('incident_checklist').selectAll().where('incident_id', '=', incidentId).execute();
      checklist = {
        total: items.length,
        done: items.filter((i) => i.done_at !== null).length,
        onTime: items.filter((i) => i.done_at !== null && (i.due_at === null || Number(i.done_at) <= Number(i.due_at))).length,
      };
      const tierA = await db
        .selectFrom('tasks')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('incident_id', '=', incidentId)
        .where('kind', '=', 'call_now')
        .executeTakeFirst();
      tierALeads = Number(tierA?.n ?? 0);
    }
    const n = (v: number | null) => (v === null ? null : Number(v));
    return {
      scenario: d.scenario as DrillScenario,
      brokenAt: Number(d.broken_at ?? d.started_at),
      restoredAt: n(d.restored_at),
      at: {
        detect: n(d.detected_at),
        declare: n(d.declared_at),
        acknowledge: n(d.acknowledged_at),
        fallback: n(d.fallback_live_at),
        tier_a_task: n(d.tier_a_task_at),
      },
      tierALeads,
      messages: [...grouped.values()],
      cadence,
      checklist,
    };
  }
}

function view(row: {
  id: string;
  scenario: string;
  target: string;
  state: string;
  started_at: number;
  broken_at: number | null;
  restored_at: number | null;
  finished_at: number | null;
  incident_id: string | null;
  hold_ms: number;
  detected_at: number | null;
  declared_at: number | null;
  acknowledged_at: number | null;
  fallback_live_at: number | null;
  tier_a_task_at: number | null;
  scorecard: string | null;
  error: string | null;
}): DrillView {
  return {
    id: row.id,
    scenario: row.scenario as DrillScenario,
    target: row.target,
    state: row.state as DrillView['state'],
    started_at: iso(row.started_at) as string,
    broken_at: iso(row.broken_at),
    restored_at: iso(row.restored_at),
    finished_at: iso(row.finished_at),
    incident_id: row.incident_id,
    hold_seconds: Math.round(Number(row.hold_ms) / 1000),
    progress: {
      detect: iso(row.detected_at),
      declare: iso(row.declared_at),
      acknowledge: iso(row.acknowledged_at),
      fallback: iso(row.fallback_live_at),
      tier_a_task: iso(row.tier_a_task_at),
    },
    scorecard: row.scorecard ? fromDbJson<Scorecard | null>(row.scorecard, null) : null,
    error: row.error,
  };
}
