import type { Actor } from '../app/actor.js';
import { can, isRole } from '../app/roles.js';
import { recordAudit } from '../audit/audit.repo.js';
import { findUserByEmail, findUserById, type UserRow } from '../auth/auth.repo.js';
import { normalizeEmail } from '../auth/auth.service.js';
import type { Bus } from '../core/bus.js';
import type { Clock } from '../core/clock.js';
import { conflict, notFound, unprocessable } from '../core/errors.js';
import { newId } from '../core/ids.js';
import { toDbBool, toDbJson } from '../db/codec.js';
import type { Database, Executor } from '../db/database.js';
import { type Component, findComponentsByIds, listComponents, updateComponent } from './components.repo.js';
import {
  type ComponentStatus,
  canDeclareWith,
  checkTransition,
  type Impact,
  type IncidentStatus,
  impactFromComponents,
  isOpen,
  type Scope,
  worstComponentStatus,
} from './incident.js';
import * as repo from './incidents.repo.js';
import { bumpPublicRevision } from './statuspage.repo.js';

export interface ComponentChange {
  id: string;
  status: ComponentStatus;
}

export interface DeclareInput {
  /** Internal: a caller-chosen id makes declaring idempotent (automated detection retries). */
  id?: string | undefined;
  name: string;
  status?: IncidentStatus | undefined;
  impact?: Impact | undefined;
  message?: string | undefined;
  components?: ComponentChange[] | undefined;
  commander?: string | undefined;
  scope?: Scope | undefined;
  drill?: boolean | undefined;
  started_at?: number | undefined;
  detected_at?: number | undefined;
}

export interface UpdateInput {
  status?: IncidentStatus | undefined;
  message: string;
  impact?: Impact | undefined;
  components?: ComponentChange[] | undefined;
}

/** What a published update records on the timeline (and what Statuspage clients see). */
export interface PublishedUpdate {
  status: IncidentStatus;
  previous_status: IncidentStatus | null;
  message: string;
  impact: Impact;
  affected_components: Array<{ id: string; name: string; old_status: ComponentStatus; new_status: ComponentStatus }>;
}

export interface IncidentDetail {
  incident: repo.IncidentRecord;
  commander: { id: string; name: string; email: string } | null;
  components: Array<{ component: Component; status: ComponentStatus }>;
  updates: Array<repo.TimelineEvent<PublishedUpdate>>;
}

export const UPDATE_EVENT = 'update.published';

/**
 * A change other features react to inside the same transaction (enqueue their jobs there, so the
 * effect happens exactly when the fact commits): an incident declared, or a public update
 * published (the first one may come with the declaration).
 */
export type IncidentChange =
  | { type: 'declared'; incidentId: string; at: number; drill: boolean; actor: Actor }
  | {
      type: 'update';
      incidentId: string;
      at: number;
      drill: boolean;
      actor: Actor;
      /** The timeline event of the update. */
      eventId: string;
      update: PublishedUpdate;
    };

export type IncidentChangeHook = (trx: Executor, change: IncidentChange) => Promise<void>;

export class IncidentService {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #bus: Bus;
  readonly #hooks: IncidentChangeHook[] = [];

  constructor(deps: { db: Database; clock: Clock; bus: Bus }) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#bus = deps.bus;
  }

  /** Run `hook` inside the transaction of every declaration and public update (wiring only). */
  onChange(hook: IncidentChangeHook): void {
    this.#hooks.push(hook);
  }

  async #runHooks(trx: Executor, change: IncidentChange): Promise<void> {
    for (const hook of this.#hooks) await hook(trx, change);
  }

  async declare(actor: Actor, input: DeclareInput): Promise<IncidentDetail> {
    const status = input.status ?? 'investigating';
    const allowed = canDeclareWith(status);
    if (!allowed.ok) throw unprocessable('invalid_status', allowed.reason, { field: 'status' });
    const now = this.#clock.now();
    const changes = input.components ?? [];
    assertNoDuplicates(changes);
    const detectedAt = input.detected_at ?? now;
    const startedAt = input.started_at ?? detectedAt;
    if (startedAt > now || detectedAt > now) {
      throw unprocessable('time_in_future', 'started_at and detected_at cannot be later than now.', {
        field: startedAt > now ? 'started_at' : 'detected_at',
      });
    }
    const id = input.id ?? newId(now);
    const message = input.message?.trim();
    if (input.id && (await repo.findIncident(this.#db.kysely, input.id))) return this.get(input.id);

    await this.#db.tx(async (trx) => {
      const known = await this.#requireComponents(trx, changes);
      const commander = await this.#resolveCommander(trx, input.commander, actor);
      const impact = input.impact ?? (changes.length > 0 ? impactFromComponents(changes.map((c) => c.status)) : 'minor');
      await repo.insertIncident(trx, {
        id,
        name: input.name.trim(),
        status,
        impact,
        commander_id: commander?.id ?? null,
        scope: toDbJson(input.scope ?? 'global'),
        drill: toDbBool(input.drill ?? false),
        started_at: startedAt,
        detected_at: detectedAt,
        declared_at: now,
        acknowledged_at: message ? now : null,
        monitoring_at: status === 'monitoring' ? now : null,
        resolved_at: null,
        created_at: now,
        updated_at: now,
      });
      await repo.appendEvent(trx, {
        incidentId: id,
        at: now,
        type: 'incident.declared',
        actor,
        public: false,
        data: {
          name: input.name.trim(),
          status,
          impact,
          scope: input.scope ?? 'global',
          drill: input.drill ?? false,
          commander_id: commander?.id ?? null,
          components: changes.map((c) => ({ id: c.id, name: known.get(c.id)?.name, status: c.status })),
          started_at: startedAt,
          detected_at: detectedAt,
        },
      });
      const affected = await this.#applyComponentChanges(trx, id, changes, known, now);
      if (message) {
        const update: PublishedUpdate = {
          status,
          previous_status: null,
          message,
          impact,
          affected_components: affected,
        };
        const eventId = await repo.appendEvent(trx, {
          incidentId: id,
          at: now,
          type: UPDATE_EVENT,
          actor,
          public: true,
          data: { ...update },
        });
        await this.#runHooks(trx, { type: 'declared', incidentId: id, at: now, drill: input.drill ?? false, actor });
        await this.#runHooks(trx, {
          type: 'update',
          incidentId: id,
          at: now,
          drill: input.drill ?? false,
          actor,
          eventId,
          update,
        });
      } else {
        await this.#runHooks(trx, { type: 'declared', incidentId: id, at: now, drill: input.drill ?? false, actor });
      }
      await recordAudit(trx, { at: now, actor, action: 'incident.declare', target: { type: 'incident', id } });
      await bumpPublicRevision(trx, now);
    });
    this.#announce(id);
    return this.get(id);
  }

  async postUpdate(actor: Actor, id: string, input: UpdateInput): Promise<IncidentDetail> {
    const now = this.#clock.now();
    const changes = input.components ?? [];
    assertNoDuplicates(changes);
    const message = input.message.trim();
    if (!message) throw unprocessable('empty_message', 'An update needs a message.', { field: 'message' });

    await this.#db.tx(async (trx) => {
      const incident = await repo.findIncident(trx, id, this.#db.dialect);
      if (!incident) throw notFound('Incident', id);
      const next = input.status ?? incident.status;
      if (next !== incident.status || !isOpen(incident.status)) {
        const check = checkTransition(incident.status, next);
        if (!check.ok) {
          throw conflict('illegal_transition', check.reason, { from: incident.status, to: next });
        }
      }
      const known = await this.#requireComponents(trx, changes);
      let effective = changes;
      if (next === 'resolved') {
        // Resolving returns every component of the incident to operational unless told otherwise.
        const current = await repo.listIncidentComponents(trx, [id]);
        const given = new Set(changes.map((c) => c.id));
        const implied = current
          .filter((c) => !given.has(c.componentId))
          .map((c) => ({ id: c.componentId, status: 'operational' as const }));
        effective = [...changes, ...implied];
        for (const [cid, comp] of await findComponentsByIds(
          trx,
          implied.map((c) => c.id),
        ))
          known.set(cid, comp);
      }
      const affected = await this.#applyComponentChanges(trx, id, effective, known, now);
      const impact = input.impact ?? incident.impact;
      await repo.updateIncident(trx, id, {
        status: next,
        impact,
        updated_at: now,
        acknowledged_at: incident.acknowledgedAt ?? now,
        ...(next === 'monitoring' && incident.monitoringAt === null && { monitoring_at: now }),
        ...(next === 'resolved' && { resolved_at: now }),
      });
      const update: PublishedUpdate = {
        status: next,
        previous_status: incident.status,
        message,
        impact,
        affected_components: affected,
      };
      const eventId = await repo.appendEvent(trx, {
        incidentId: id,
        at: now,
        type: UPDATE_EVENT,
        actor,
        public: true,
        data: { ...update },
      });
      await this.#runHooks(trx, { type: 'update', incidentId: id, at: now, drill: incident.drill, actor, eventId, update });
      if (next === 'resolved') {
        // Components of other open incidents may still be down: recompute after this one closed.
        for (const change of effective) await this.#recomputeComponent(trx, change.id, now);
      }
      await recordAudit(trx, {
        at: now,
        actor,
        action: 'incident.update',
        target: { type: 'incident', id },
        details: { status: next, previous_status: incident.status },
      });
      await bumpPublicRevision(trx, now);
    });
    this.#announce(id);
    return this.get(id);
  }

  /**
   * What automated detection saw, on an open incident: components join or change status (so the
   * status page shows the truth) and one summary lands on the timeline, not one event per probe.
   */
  async recordDetection(
    actor: Actor,
    id: string,
    input: { components: ComponentChange[]; summary: string; reasons: string[]; kind: 'signal' | 'recovered' },
  ): Promise<void> {
    const now = this.#clock.now();
    assertNoDuplicates(input.components);
    await this.#db.tx(async (trx) => {
      const incident = await repo.findIncident(trx, id, this.#db.dialect);
      if (!incident) throw notFound('Incident', id);
      if (!isOpen(incident.status)) throw conflict('incident_closed', `Incident ${id} is ${incident.status}.`);
      const known = await this.#requireComponents(trx, input.components);
      const affected = await this.#applyComponentChanges(trx, id, input.components, known, now);
      await repo.appendEvent(trx, {
        incidentId: id,
        at: now,
        type: input.kind === 'recovered' ? 'detection.recovered' : 'detection.signal',
        actor,
        public: false,
        data: { summary: input.summary, reasons: input.reasons, components: affected },
      });
      await bumpPublicRevision(trx, now);
    });
    this.#announce(id);
  }

  /** An internal note on the timeline: never public. */
  async addNote(actor: Actor, id: string, message: string): Promise<repo.TimelineEvent> {
    const now = this.#clock.now();
    const text = message.trim();
    if (!text) throw unprocessable('empty_message', 'A note needs a message.', { field: 'message' });
    const eventId = await this.#db.tx(async (trx) => {
      if (!(await repo.findIncident(trx, id))) throw notFound('Incident', id);
      const eid = await repo.appendEvent(trx, {
        incidentId: id,
        at: now,
        type: 'note.added',
        actor,
        public: false,
        data: { message: text },
      });
      await recordAudit(trx, { at: now, actor, action: 'incident.note', target: { type: 'incident', id } });
      return eid;
    });
    this.#bus.emit('incident.changed', id);
    const events = await this.timeline(id);
    return events.find((e) => e.id === eventId) as repo.TimelineEvent;
  }

  async get(id: string): Promise<IncidentDetail> {
    const ex = this.#db.kysely;
    const incident = await repo.findIncident(ex, id);
    if (!incident) throw notFound('Incident', id);
    const [links, events, commander] = await Promise.all([
      repo.listIncidentComponents(ex, [id]),
      repo.listEvents(ex, [id], { publicOnly: true }),
      incident.commanderId ? findUserById(ex, incident.commanderId) : Promise.resolve(undefined),
    ]);
    const components = await findComponentsByIds(
      ex,
      links.map((l) => l.componentId),
    );
    return {
      incident,
      commander: commander ? { id: commander.id, name: commander.name, email: commander.email } : null,
      components: links.flatMap((l) => {
        const component = components.get(l.componentId);
        return component ? [{ component, status: l.status }] : [];
      }),
      updates: events.filter((e) => e.type === UPDATE_EVENT).reverse() as unknown as Array<repo.TimelineEvent<PublishedUpdate>>,
    };
  }

  list(filter: { open?: boolean; limit?: number }): Promise<repo.IncidentRecord[]> {
    return repo.listIncidents(this.#db.kysely, {
      limit: filter.limit ?? 50,
      ...(filter.open !== undefined && { open: filter.open }),
    });
  }

  async timeline(id: string): Promise<repo.TimelineEvent[]> {
    if (!(await repo.findIncident(this.#db.kysely, id))) throw notFound('Incident', id);
    return repo.listEvents(this.#db.kysely, [id]);
  }

  async #requireComponents(trx: Executor, changes: readonly ComponentChange[]): Promise<Map<string, Component>> {
    const ids = changes.map((c) => c.id);
    const known = await findComponentsByIds(trx, ids);
    const unknown = changes.map((c, index) => ({ id: c.id, index })).filter((c) => !known.has(c.id));
    if (unknown.length > 0) {
      const all = await listComponents(trx);
      throw unprocessable(
        'unknown_component',
        `Unknown component${unknown.length > 1 ? 's' : ''}: ${unknown.map((u) => JSON.stringify(u.id)).join(', ')}.`,
        unknown.map((u) => ({
          field: `components.${u.index}.id`,
          id: u.id,
          known: all.map((c) => ({ id: c.id, name: c.name })),
        })),
      );
    }
    return known;
  }

  async #resolveCommander(trx: Executor, ref: string | undefined, actor: Actor): Promise<UserRow | undefined> {
    if (ref === undefined) {
      return actor.type === 'user' && actor.id ? findUserById(trx, actor.id) : undefined;
    }
    const user = ref.includes('@') ? await findUserByEmail(trx, normalizeEmail(ref)) : await findUserById(trx, ref);
    if (!user) throw unprocessable('unknown_user', `No user ${JSON.stringify(ref)} to be commander.`, { field: 'commander' });
    if (!isRole(user.role) || !can(user.role, 'incidents.declare')) {
      throw unprocessable('not_a_commander', `${user.email} has role ${user.role}; a commander needs role commander or admin.`, {
        field: 'commander',
      });
    }
    return user;
  }

  /** Record each component's status in this incident and derive its overall status. */
  async #applyComponentChanges(
    trx: Executor,
    incidentId: string,
    changes: readonly ComponentChange[],
    known: Map<string, Component>,
    now: number,
  ): Promise<PublishedUpdate['affected_components']> {
    const affected: PublishedUpdate['affected_components'] = [];
    for (const change of changes) {
      const component = known.get(change.id) as Component;
      await repo.upsertIncidentComponent(trx, incidentId, change.id, change.status, now);
      const overall = await this.#recomputeComponent(trx, change.id, now);
      if (overall !== component.status || change.status !== component.status) {
        affected.push({ id: component.id, name: component.name, old_status: component.status, new_status: change.status });
      }
    }
    return affected;
  }

  /** A component's status is the worst it has in any open incident (operational if none). */
  async #recomputeComponent(trx: Executor, componentId: string, now: number): Promise<ComponentStatus> {
    const statuses = await repo.openStatusesOfComponent(trx, componentId);
    const overall = worstComponentStatus(statuses);
    await updateComponent(trx, componentId, { status: overall, updated_at: now });
    return overall;
  }

  #announce(id: string): void {
    this.#bus.emit('incident.changed', id);
    this.#bus.emit('public.changed');
  }
}

function assertNoDuplicates(changes: readonly ComponentChange[]): void {
  const seen = new Set<string>();
  changes.forEach((c, index) => {
    if (seen.has(c.id)) {
      throw unprocessable('duplicate_component', `Component ${JSON.stringify(c.id)} is listed twice.`, {
        field: `components.${index}.id`,
      });
    }
    seen.add(c.id);
  });
}
