import type { Actor } from '../../app/actor.js';
import { can, isRole, type Permission } from '../../app/roles.js';
import { recordAudit } from '../../audit/audit.repo.js';
import { findUserById } from '../../auth/auth.repo.js';
import type { UserView } from '../../auth/auth.service.js';
import type { Bus } from '../../core/bus.js';
import type { Clock } from '../../core/clock.js';
import { notFound, unprocessable } from '../../core/errors.js';
import type { Database } from '../../db/database.js';
import type { BoardRow } from '../../detection/detection.pages.js';
import type { BuildView } from '../../fallback/mirror/mirror.service.js';
import type { ChecklistItemView, ChecklistView } from '../../playbook/playbook.service.js';
import * as incidentsRepo from '../incidents.repo.js';
import * as repo from './room.repo.js';

/** Who may hold each role: the permission the role's work needs. */
export const ROLE_NEEDS: Record<repo.RoomRole, Permission> = {
  commander: 'incidents.declare',
  communications: 'incidents.update',
  sales: 'tasks.work',
};

export const ROLE_ASSIGNED_EVENT = 'incident.role_assigned';

export interface FlagState {
  key: string;
  value: unknown;
  reason: string;
}

/** The room's panels besides the incident itself. A panel that could not be read says why. */
export interface RoomView {
  roles: repo.AssignedRole[];
  /** The people each role may be given to. */
  candidates: Record<repo.RoomRole, UserView[]>;
  checklist: ChecklistView | { error: string } | null;
  tiers: Record<string, number>;
  tasks: { rows: repo.RoomTask[]; open: number; done: number };
  delivery: Array<{ channel: string; status: string; n: number }>;
  health: BoardRow[] | { error: string };
  flags: FlagState[] | { error: string } | null;
  mirror: BuildView | null | { error: string };
  banner: { active: boolean; message: string | null; fallbackUrl: string | null; includesIncident: boolean } | null;
  drill: { id: string; scenario: string; state: string } | null;
  now: number;
}

export interface RoomDeps {
  db: Database;
  clock: Clock;
  bus: Bus;
  auth: { listUsers(): Promise<UserView[]> };
  playbook?: {
    checklist(id: string): Promise<ChecklistView>;
    complete(actor: Actor, id: string, item: string, note: string | undefined): Promise<ChecklistItemView>;
  };
  flags?: { evaluateAll(): Promise<Array<{ key: string; value: unknown; reason: string }>> };
  mirror?: { history(limit?: number): Promise<BuildView[]> };
  statusSite?: { get(path: string): Promise<{ body: Buffer } | undefined> };
  /** The health board's rows for these components. */
  health?: (componentIds: ReadonlySet<string>) => Promise<BoardRow[]>;
}

const TASK_ROWS = 50;

async function soft<T>(work: Promise<T>): Promise<T | { error: string }> {
  try {
    return await work;
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * The incident room: everything the people working an incident watch, read in one go, and the
 * room's own action (giving someone a role). Checklist completion is the playbook's.
 */
export class IncidentRoomService {
  readonly #d: RoomDeps;

  constructor(deps: RoomDeps) {
    this.#d = deps;
  }

  get playbook(): RoomDeps['playbook'] {
    return this.#d.playbook;
  }

  async view(incidentId: string, componentIds: ReadonlySet<string>): Promise<RoomView> {
    const ex = this.#d.db.kysely;
    const { playbook, flags, mirror, health } = this.#d;
    const [roles, users, checklist, tiers, tasks, delivery, board, flagStates, builds, banner, drill] = await Promise.all([
      repo.listRoles(ex, incidentId),
      this.#d.auth.listUsers(),
      playbook ? soft(playbook.checklist(incidentId)) : Promise.resolve(null),
      repo.tierCounts(ex, incidentId),
      repo.incidentTasks(ex, incidentId, TASK_ROWS),
      repo.deliveryCounts(ex, incidentId),
      health ? soft(health(componentIds)) : Promise.resolve([]),
      flags ? soft(flags.evaluateAll()) : Promise.resolve(null),
      mirror ? soft(mirror.history(1)) : Promise.resolve([]),
      this.#banner(incidentId),
      repo.drillOf(ex, incidentId),
    ]);
    const active = users.filter((u) => !u.disabled);
    const candidates = Object.fromEntries(
      repo.ROOM_ROLES.map((role) => [role, active.filter((u) => isRole(u.role) && can(u.role, ROLE_NEEDS[role]))]),
    ) as Record<repo.RoomRole, UserView[]>;
    return {
      roles,
      candidates,
      checklist,
      tiers,
      tasks,
      delivery,
      health: board,
      flags: flagStates,
      mirror: Array.isArray(builds) ? (builds[0] ?? null) : builds,
      banner,
      drill: drill ?? null,
      now: this.#d.clock.now(),
    };
  }

  async #banner(incidentId: string): Promise<RoomView['banner']> {
    if (!this.#d.statusSite) return null;
    try {
      const file = await this.#d.statusSite.get('banner.json');
      if (!file) return null;
      const doc = JSON.parse(file.body.toString('utf8')) as {
        active?: boolean;
        message?: string | null;
        fallback_url?: string | null;
        incidents?: Array<{ id: string }>;
      };
      return {
        active: doc.active === true,
        message: doc.message ?? null,
        fallbackUrl: doc.fallback_url ?? null,
        includesIncident: (doc.incidents ?? []).some((i) => i.id === incidentId),
      };
    } catch {
      return null;
    }
  }

  /**
   * Give a role of the incident to a person (the commander is the incident's own; the others are
   * cleared with an empty user). Audited, and on the timeline as an internal entry.
   */
  async assignRole(actor: Actor, incidentId: string, role: repo.RoomRole, userId: string | null): Promise<void> {
    const now = this.#d.clock.now();
    await this.#d.db.tx(async (trx) => {
      const incident = await incidentsRepo.findIncident(trx, incidentId, this.#d.db.dialect);
      if (!incident) throw notFound('Incident', incidentId);
      let user: { id: string; name: string; email: string } | null = null;
      if (userId !== null) {
        const row = await findUserById(trx, userId);
        if (!row || row.disabled_at !== null)
          throw unprocessable('unknown_user', `No active user ${JSON.stringify(userId)}.`, { field: 'user' });
        const needs = ROLE_NEEDS[role];
        if (!isRole(row.role) || !can(row.role, needs)) {
          throw unprocessable(
            'role_not_allowed',
            `${row.email} has role ${row.role}; the ${repo.ROOM_ROLE_LABELS[role].toLowerCase()} needs a role allowed to ${needs}.`,
            { field: 'user' },
          );
        }
        user = { id: row.id, name: row.name, email: row.email };
      } else if (role === 'commander') {
        throw unprocessable('commander_required', 'An incident always has a commander: choose who takes over.', {
          field: 'user',
        });
      }
      const before = (await repo.listRoles(trx, incidentId)).find((r) => r.role === role) ?? null;
      if ((before?.userId ?? null) === (user?.id ?? null)) return;
      if (role === 'commander')
        await incidentsRepo.updateIncident(trx, incidentId, { commander_id: user?.id ?? null, updated_at: now });
      else if (user) await repo.setRole(trx, { incidentId, role, userId: user.id, at: now, by: actor.name });
      else await repo.clearRole(trx, incidentId, role);
      const label = repo.ROOM_ROLE_LABELS[role];
      await incidentsRepo.appendEvent(trx, {
        incidentId,
        at: now,
        type: ROLE_ASSIGNED_EVENT,
        actor,
        public: false,
        data: {
          summary: user
            ? `${label}: ${user.name} (was ${before?.name ?? 'nobody'})`
            : `${label}: nobody (was ${before?.name ?? 'nobody'})`,
          role,
          user_id: user?.id ?? null,
          previous_user_id: before?.userId ?? null,
        },
      });
      await recordAudit(trx, {
        at: now,
        actor,
        action: 'incident.role_assign',
        target: { type: 'incident', id: incidentId },
        details: { role, user_id: user?.id ?? null, previous_user_id: before?.userId ?? null },
      });
    });
    this.#d.bus.emit('incident.changed', incidentId);
  }
}
