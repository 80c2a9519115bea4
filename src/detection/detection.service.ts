import { sql } from 'kysely';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Actor } from '../app/actor.js';
import { recordAudit } from '../audit/audit.repo.js';
import type { Bus } from '../core/bus.js';
import { type Clock, toIso } from '../core/clock.js';
import { conflict, notFound, unprocessable } from '../core/errors.js';
import type { Database, Executor } from '../db/database.js';
import type { JobQueue } from '../db/jobs/job-queue.js';
import { defineJob, type JobHandler } from '../db/jobs/worker.js';
import { type Component, findComponentsByIds, listComponents } from '../incidents/components.repo.js';
import { COMPONENT_STATUS_LABELS, isOpen } from '../incidents/incident.js';
import { listIncidentComponents, listIncidents } from '../incidents/incidents.repo.js';
import type { IncidentService } from '../incidents/incidents.service.js';
import { applyResult, type ConfirmationPolicy, DEFAULT_POLICY, initialState } from './confirmation.js';
import * as repo from './detection.repo.js';
import { type ComponentHealth, classifyOutage, evaluateHealth, type FiringSignal, type RegionalProbe } from './health.js';
import type { MonitorSpec, ProbeResult } from './monitor.js';

export const DETECTION_ACTOR: Actor = { type: 'system', id: null, name: 'Keepwarm detection', role: 'admin', ip: null };
export const DECLARE_JOB = 'detection.declare';
export const EVALUATE_JOB = 'detection.evaluate';
export interface DetectionOptions {
  declare: 'auto' | 'suggest' | 'off';
  confirmWithinMs: number;
  /** During a drill, a suggestion nobody confirms is declared after at most this long (the playbook's drill timing). */
  drillConfirmWithinMs: number;
  region: string;
  failuresToDown: number;
  successesToUp: number;
}

/** A signal from alert intake, an upstream status page or browser beacons, mapped to a component. */
export interface SignalInput {
  source: string;
  fingerprint: string;
  componentId: string | null;
  region?: string | null | undefined;
  state: 'firing' | 'resolved';
  severity: 'down' | 'degraded';
  summary: string;
  /** When the failure began, if the source knows (an alert's startsAt); default: now. */
  startedAt?: number | undefined;
  details?: Record<string, unknown> | undefined;
}

interface HealthChange {
  component: Component;
  prev: repo.StoredHealth | undefined;
  next: ComponentHealth;
}

/**
 * Turns signals into at most one incident per outage: probe results are confirmed per monitor and
 * region, every source is combined into each component's health, and a component that goes down
 * raises a detection — declared at once (auto), offered to the commander to confirm with one
 * click and declared if nobody answers in time (suggest), or only recorded (off). New signals on
 * the components of an open incident join it; recovery moves it to monitoring and proposes
 * resolution. The timeline gets a summary per change, not an event per probe.
 */
export class DetectionService {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #bus: Bus;
  readonly #jobs: JobQueue;
  readonly #incidents: IncidentService;
  readonly #log: Logger;
  readonly #options: DetectionOptions;
  /** A running drill covering these components (set by the drill service): its incident is a drill. */
  #drillFor: (ex: Executor, componentIds: readonly string[]) => Promise<{ id: string } | null> = async () => null;
  #evaluating: Promise<unknown> = Promise.resolve();

  constructor(deps: {
    db: Database;
    clock: Clock;
    bus: Bus;
    jobs: JobQueue;
    incidents: IncidentService;
    log: Logger;
    options: DetectionOptions;
  }) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#bus = deps.bus;
    this.#jobs = deps.jobs;
    this.#incidents = deps.incidents;
    this.#log = deps.log;
    this.#options = deps.options;
  }

  get options(): DetectionOptions {
    return this.#options;
  }

  /** The monitors a region runs: enabled, and assigned to that region or to every region. */
  async assignments(region: string): Promise<MonitorSpec[]> {
    const monitors = await repo.listMonitors(this.#db.kysely, { enabledOnly: true });
    return monitors.filter((m) => m.regions.includes('*') || m.regions.includes(region)).map(repo.monitorSpec);
  }

  /**
   * Results of checks run in a region: each confirms or changes its monitor's state there, and
   * counts into the minute's roll-up. Health is re-evaluated when a confirmed state changed.
   */
  async recordResults(
    region: string,
    results: readonly ProbeResult[],
  ): Promise<{ applied: number; unknown: number; transitions: number }> {
    if (results.length === 0) return { applied: 0, unknown: 0, transitions: 0 };
    const ids = [...new Set(results.map((r) => r.monitorId))];
    const affected = new Set<string>();
    let transitions = 0;
    let applied = 0;
    await this.#db.tx(async (trx) => {
      const monitors = await repo.findMonitorsByIds(trx, ids);
      const states = await repo.statesFor(trx, region, [...monitors.keys()]);
      for (const result of [...results].sort((a, b) => a.at - b.at)) {
        const monitor = monitors.get(result.monitorId);
        if (!monitor) continue;
        applied++;
        const isNew = !states.has(monitor.id);
        const prev = states.get(monitor.id) ?? {
          ...initialState(result.at),
          monitorId: monitor.id,
          region,
          lastResultAt: result.at,
          lastLatencyMs: null,
          lastError: null,
        };
        const policy: ConfirmationPolicy = {
          ...DEFAULT_POLICY,
          failuresToDown: monitor.failuresToDown,
          successesToUp: monitor.successesToUp,
        };
        const { next, transition } = applyResult(prev, result, policy);
        const stored = {
          ...prev,
          ...next,
          lastResultAt: result.at,
          lastLatencyMs: Math.round(result.latencyMs),
          lastError: result.error ?? null,
        };
        states.set(monitor.id, stored);
        // A region reporting for the first time changes the vote as much as a transition does.
        if (transition || prev.degraded !== next.degraded || isNew) affected.add(monitor.componentId);
        if (transition) transitions++;
        await repo.rollUp(trx, {
          monitorId: monitor.id,
          region,
          at: result.at,
          ok: result.ok,
          degraded: result.degraded,
          latencyMs: result.latencyMs,
        });
      }
      for (const state of states.values()) {
        if (ids.includes(state.monitorId)) await repo.saveState(trx, state);
      }
    });
    if (affected.size > 0) await this.evaluate([...affected]);
    return { applied, unknown: results.length - applied, transitions };
  }

  /** Record signals (deduplicated by source and fingerprint); re-evaluate what they touch. */
  async recordSignals(inputs: readonly SignalInput[]): Promise<{ recorded: number; changed: number }> {
    const now = this.#clock.now();
    const affected = new Set<string>();
    let changed = 0;
    await this.#db.tx(async (trx) => {
      for (const input of inputs) {
        const res = await repo.upsertSignal(trx, {
          source: input.source,
          fingerprint: input.fingerprint,
          componentId: input.componentId,
          region: input.region ?? null,
          state: input.state,
          severity: input.severity,
          summary: input.summary,
          details: input.details ?? {},
          at: now,
          startedAt: input.startedAt,
        });
        if (res.changed) {
          changed++;
          if (input.componentId) affected.add(input.componentId);
        }
        // A rule change moved the signal: the component it left is re-evaluated too.
        if (res.previousComponentId) affected.add(res.previousComponentId);
      }
    });
    if (affected.size > 0) await this.evaluate([...affected]);
    return { recorded: inputs.length, changed };
  }

  /**
   * Re-evaluate components (all when none are named) and act on changes. Evaluations in this
   * process run one at a time; across processes, decisions serialise on the database.
   */
  evaluate(componentIds?: readonly string[]): Promise<HealthChange[]> {
    const run = this.#evaluating.then(() => this.#evaluate(componentIds));
    this.#evaluating = run.catch(() => undefined);
    return run;
  }

  async #evaluate(componentIds?: readonly string[]): Promise<HealthChange[]> {
    const ex = this.#db.kysely;
    const now = this.#clock.now();
    const components = componentIds ? [...(await findComponentsByIds(ex, componentIds)).values()] : await listComponents(ex);
    if (components.length === 0) return [];
    const ids = components.map((c) => c.id);
    const monitors = (await repo.listMonitors(ex, { enabledOnly: true })).filter((m) => ids.includes(m.componentId));
    const states = await repo.listStates(ex, { monitorIds: monitors.map((m) => m.id) });
    const signals = await repo.firingSignals(ex, ids);
    const stored = await repo.listHealth(ex);

    const changes: HealthChange[] = [];
    const reworded: HealthChange[] = [];
    for (const component of components) {
      const probes: RegionalProbe[] = states
        .filter((s) => monitors.find((m) => m.id === s.monitorId)?.componentId === component.id)
        .map((s) => ({
          monitorId: s.monitorId,
          region: s.region,
          state: s.state,
          degraded: s.degraded,
          lastResultAt: s.lastResultAt,
          intervalMs: monitors.find((m) => m.id === s.monitorId)?.intervalMs ?? 60_000,
          firstFailureAt: s.firstFailureAt,
        }));
      const firing: FiringSignal[] = signals
        .filter((s) => s.componentId === component.id)
        .map((s) => ({ source: s.source, severity: s.severity, region: s.region, summary: s.summary, firstAt: s.firstAt }));
      const next = evaluateHealth({ probes, signals: firing, now });
      const prev = stored.get(component.id);
      const same = prev && prev.status === next.status && JSON.stringify(prev.scope) === JSON.stringify(next.scope);
      if (!same && (prev || next.status !== 'operational')) changes.push({ component, prev, next });
      else if (prev && JSON.stringify(prev.reasons) !== JSON.stringify(next.reasons)) reworded.push({ component, prev, next });
    }
    if (changes.length === 0 && reworded.length === 0) return [];
    await this.#db.tx(async (trx) => {
      // Same verdict, new reasons (another alert, one of two resolved): keep what people read true.
      for (const c of reworded) {
        await repo.saveHealth(trx, { ...(c.prev as repo.StoredHealth), reasons: c.next.reasons, evaluatedAt: now });
      }
      for (const c of changes) {
        await repo.saveHealth(trx, {
          componentId: c.component.id,
          status: c.next.status,
          scope: c.next.scope,
          reasons: c.next.reasons,
          since: now,
          evaluatedAt: now,
        });
      }
    });
    if (changes.length > 0) await this.#act(changes, now);
    return changes;
  }

  async #act(changes: HealthChange[], now: number): Promise<void> {
    const failing = changes.filter(
      (c) => c.next.down || (c.next.status === 'degraded_performance' && c.prev?.status !== 'degraded_performance'),
    );
    const recovered = changes.filter((c) => c.next.status === 'operational' && c.prev && c.prev.status !== 'operational');
    const open = (await listIncidents(this.#db.kysely, { open: true, limit: 200, includeDrills: false })).filter((i) =>
      isOpen(i.status),
    );
    const links = await listIncidentComponents(
      this.#db.kysely,
      open.map((i) => i.id),
    );

    // Failing components of an open incident: that incident learns about it.
    const remaining: HealthChange[] = [];
    for (const c of failing) {
      const incidentId = links.find((l) => l.componentId === c.component.id)?.incidentId;
      if (incidentId) {
        await this.#incidents.recordDetection(DETECTION_ACTOR, incidentId, {
          kind: 'signal',
          components: [{ id: c.component.id, status: c.next.status }],
          summary: `${c.component.name}: ${COMPONENT_STATUS_LABELS[c.next.status]} (${c.next.scope === 'global' ? 'global' : c.next.scope.join(', ')})`,
          reasons: c.next.reasons,
        });
      } else if (c.next.down) remaining.push(c);
    }
    if (remaining.length > 0) await this.#raise(remaining, now);

    // Open incidents whose components are all healthy again: monitoring, resolution proposed.
    const healthy = new Map((await repo.listHealth(this.#db.kysely)).entries());
    for (const incident of open) {
      const mine = links.filter((l) => l.incidentId === incident.id);
      if (mine.length === 0 || !recovered.some((r) => mine.some((l) => l.componentId === r.component.id))) continue;
      if (!mine.every((l) => (healthy.get(l.componentId)?.status ?? 'operational') === 'operational')) continue;
      await this.#proposeResolution(
        incident.id,
        incident.acknowledgedAt !== null,
        incident.status,
        mine.map((l) => l.componentId),
      );
    }
    // Suggestions whose components recovered before anyone acted: a blip, not an incident.
    await this.#db.tx(async (trx) => {
      const suggestion = await repo.openSuggestion(trx, this.#db.dialect);
      if (suggestion?.components.every((c) => (healthy.get(c.id)?.status ?? 'operational') === 'operational')) {
        await repo.updateDetection(trx, suggestion.id, {
          state: 'recovered',
          decidedAt: this.#clock.now(),
          decidedBy: DETECTION_ACTOR.name,
        });
      }
    });
  }

  /**
   * A new outage: one detection (extended while it is still a suggestion), and a job that declares
   * it — at once in auto mode, after the confirmation window in suggest mode.
   */
  async #raise(failing: HealthChange[], now: number): Promise<void> {
    const components = failing.map((c) => ({ id: c.component.id, status: c.next.status }));
    const summary = failing.map((c) => `${c.component.name}: ${c.next.reasons.join('; ')}`).join(' | ');
    const firstFailureAt = Math.min(...failing.map((c) => c.next.firstFailureAt ?? now));
    const classification = classifyOutage(failing.map((c) => ({ kind: c.component.kind, health: c.next })));
    await this.#db.tx(async (trx) => {
      if (this.#db.dialect === 'postgres') await sql`select pg_advisory_xact_lock(7213001)`.execute(trx);
      const open = await repo.openSuggestion(trx, this.#db.dialect);
      if (open) {
        const merged = [...open.components.filter((c) => !components.some((n) => n.id === c.id)), ...components];
        await repo.updateDetection(trx, open.id, {
          components: merged,
          scope: classification.scope,
          summary: `${open.summary} | ${summary}`,
        });
        return;
      }
      // A drill runs the playbook with drill timings: a suggestion waits drillConfirmWithin, not the real window.
      const drill = await this.#drillFor(
        trx,
        components.map((c) => c.id),
      );
      const mode = drill && this.#options.declare === 'off' ? 'suggest' : this.#options.declare;
      const confirmWithinMs = drill
        ? Math.min(this.#options.confirmWithinMs, this.#options.drillConfirmWithinMs)
        : this.#options.confirmWithinMs;
      const confirmBy = mode === 'auto' ? now : mode === 'suggest' ? now + confirmWithinMs : null;
      const id = await repo.insertDetection(trx, {
        state: mode === 'off' ? 'observed' : 'suggested',
        components,
        scope: classification.scope,
        summary,
        firstFailureAt,
        createdAt: now,
        confirmBy,
        incidentId: null,
        decidedBy: null,
        decidedAt: null,
      });
      if (confirmBy !== null)
        await this.#jobs.enqueue(trx, {
          kind: DECLARE_JOB,
          payload: { detectionId: id },
          key: `${DECLARE_JOB}:${id}`,
          runAt: confirmBy,
        });
      await recordAudit(trx, {
        at: now,
        actor: DETECTION_ACTOR,
        action: 'detection.raise',
        target: { type: 'detection', id },
        details: { mode, channels: classification.channels },
      });
      this.#log.warn(
        { detection: id, mode, components: components.map((c) => c.id), scope: classification.scope },
        'outage detected',
      );
    });
    this.#bus.emit('public.changed');
  }

  /** Called once at wiring: which running drill (if any) covers components. */
  setDrillLookup(lookup: (ex: Executor, componentIds: readonly string[]) => Promise<{ id: string } | null>): void {
    this.#drillFor = lookup;
  }

  /** Declare the incident of a detection (the job, or a commander's confirmation). Idempotent. */
  async declare(detectionId: string, actor: Actor): Promise<string | null> {
    const detection = await repo.findDetection(this.#db.kysely, detectionId);
    if (!detection) throw notFound('Detection', detectionId);
    if (detection.state === 'declared' && detection.incidentId) return detection.incidentId;
    if (detection.state !== 'suggested' && !(detection.state === 'declared' && !detection.incidentId)) return null;
    const components = await findComponentsByIds(
      this.#db.kysely,
      detection.components.map((c) => c.id),
    );
    const health = await repo.listHealth(this.#db.kysely);
    const current = detection.components.map((c) => ({ id: c.id, status: health.get(c.id)?.status ?? c.status }));
    const down = current.filter((c) => c.status !== 'operational');
    if (down.length === 0) {
      await this.#db.tx((trx) =>
        repo.updateDetection(trx, detectionId, { state: 'recovered', decidedAt: this.#clock.now(), decidedBy: actor.name }),
      );
      return null;
    }
    const classification = classifyOutage(
      down.flatMap((c) => {
        const component = components.get(c.id);
        const h = health.get(c.id);
        return component && h
          ? [
              {
                kind: component.kind,
                health: { status: h.status, down: true, scope: h.scope, reasons: h.reasons, firstFailureAt: null },
              },
            ]
          : [];
      }),
    );
    const names = down.map((c) => components.get(c.id)?.name ?? c.id);
    const drill = await this.#drillFor(
      this.#db.kysely,
      down.map((c) => c.id),
    );
    const detail = await this.#incidents.declare(actor, {
      id: detection.id,
      ...(drill && { drill: true }),
      name: `${classification.channels.join(' / ')} outage: ${names.join(', ')}`,
      components: down,
      scope: classification.scope,
      impact: classification.impact,
      started_at: detection.firstFailureAt,
      detected_at: detection.createdAt,
      ...(actor.type === 'user' && actor.id ? { commander: actor.id } : {}),
    });
    await this.#incidents.recordDetection(DETECTION_ACTOR, detail.incident.id, {
      kind: 'signal',
      components: [],
      summary: `Detected: ${detection.summary}`,
      reasons: down.flatMap((c) => health.get(c.id)?.reasons ?? []),
    });
    await this.#db.tx((trx) =>
      repo.updateDetection(trx, detectionId, {
        state: 'declared',
        incidentId: detail.incident.id,
        decidedBy: actor.name,
        decidedAt: this.#clock.now(),
      }),
    );
    return detail.incident.id;
  }

  /** The commander confirms a suggestion: the incident is declared now, with them in command. */
  async confirm(actor: Actor, detectionId: string): Promise<string> {
    const detection = await repo.findDetection(this.#db.kysely, detectionId);
    if (!detection) throw notFound('Detection', detectionId);
    if (detection.state !== 'suggested')
      throw conflict('detection_decided', `This detection is already ${detection.state}.`, { state: detection.state });
    const incidentId = await this.declare(detectionId, actor);
    if (!incidentId)
      throw unprocessable('recovered', 'Every component of this detection is healthy again; there is nothing to declare.');
    await this.#db.tx((trx) =>
      recordAudit(trx, {
        at: this.#clock.now(),
        actor,
        action: 'detection.confirm',
        target: { type: 'detection', id: detectionId },
        details: { incident: incidentId },
      }),
    );
    return incidentId;
  }

  /** Close a firing signal by hand (its source lost the resolution), then re-evaluate. */
  async resolveSignal(actor: Actor, id: string): Promise<void> {
    const now = this.#clock.now();
    const signal = await this.#db.tx(async (trx) => {
      const closed = await repo.resolveSignal(trx, id, now);
      if (!closed) throw notFound('Firing signal', id);
      await recordAudit(trx, { at: now, actor, action: 'signal.resolve', target: { type: 'signal', id } });
      return closed;
    });
    if (signal.componentId) await this.evaluate([signal.componentId]);
  }

  async dismiss(actor: Actor, detectionId: string): Promise<void> {
    await this.#db.tx(async (trx) => {
      const detection = await repo.findDetection(trx, detectionId, this.#db.dialect);
      if (!detection) throw notFound('Detection', detectionId);
      if (detection.state !== 'suggested')
        throw conflict('detection_decided', `This detection is already ${detection.state}.`, { state: detection.state });
      await repo.updateDetection(trx, detectionId, { state: 'dismissed', decidedBy: actor.name, decidedAt: this.#clock.now() });
      await recordAudit(trx, {
        at: this.#clock.now(),
        actor,
        action: 'detection.dismiss',
        target: { type: 'detection', id: detectionId },
      });
    });
  }

  async #proposeResolution(incidentId: string, acknowledged: boolean, status: string, componentIds: string[]): Promise<void> {
    const components = await findComponentsByIds(this.#db.kysely, componentIds);
    const names = [...components.values()].map((c) => c.name).join(', ');
    const since = toIso(this.#clock.now()).slice(11, 16);
    if (acknowledged && status !== 'monitoring') {
      await this.#incidents.postUpdate(DETECTION_ACTOR, incidentId, {
        status: 'monitoring',
        message: `Automated checks show ${names} responding normally from every region since ${since} UTC. We are monitoring before we close this incident.`,
      });
    }
    await this.#incidents.recordDetection(DETECTION_ACTOR, incidentId, {
      kind: 'recovered',
      components: [],
      summary: `All affected components healthy again (${names}); resolution proposed.`,
      reasons: [],
    });
  }

  /** Jobs: declaring a detection when its confirmation window ends; re-evaluating for stale results. */
  jobHandlers(): JobHandler[] {
    return [
      defineJob({
        kind: DECLARE_JOB,
        payload: z.object({ detectionId: z.string() }),
        run: async (payload) => {
          await this.declare(payload.detectionId, DETECTION_ACTOR);
          return undefined;
        },
      }),
      defineJob({
        kind: EVALUATE_JOB,
        payload: z.object({}).passthrough(),
        run: async () => {
          await this.evaluate();
          await this.#db.tx((trx) => this.#jobs.scheduleRecurring(trx, EVALUATE_JOB, 30_000));
          return undefined;
        },
      }),
    ];
  }

  scheduleRecurring(trx: Executor): Promise<void> {
    return this.#jobs.scheduleRecurring(trx, EVALUATE_JOB, 30_000);
  }
}
