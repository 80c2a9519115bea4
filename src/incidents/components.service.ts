import type { Actor } from '../app/actor.js';
import { recordAudit } from '../audit/audit.repo.js';
import type { Bus } from '../core/bus.js';
import type { Clock } from '../core/clock.js';
import { conflict, notFound } from '../core/errors.js';
import { newId } from '../core/ids.js';
import { toDbBool } from '../db/codec.js';
import type { Database } from '../db/database.js';
import * as repo from './components.repo.js';
import type { ComponentKind, ComponentStatus } from './incident.js';
import { bumpPublicRevision } from './statuspage.repo.js';

export interface ComponentInput {
  name: string;
  kind: ComponentKind;
  group?: string | null | undefined;
  description?: string | null | undefined;
  position?: number | undefined;
  status?: ComponentStatus | undefined;
  only_show_if_degraded?: boolean | undefined;
}

export type ComponentPatch = { [K in keyof ComponentInput]?: ComponentInput[K] | undefined };

export class ComponentService {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #bus: Bus;

  constructor(deps: { db: Database; clock: Clock; bus: Bus }) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#bus = deps.bus;
  }

  list(): Promise<repo.Component[]> {
    return repo.listComponents(this.#db.kysely);
  }

  async get(id: string): Promise<repo.Component> {
    const component = await repo.findComponent(this.#db.kysely, id);
    if (!component) throw notFound('Component', id);
    return component;
  }

  async create(actor: Actor, input: ComponentInput): Promise<repo.Component> {
    const now = this.#clock.now();
    const id = newId(now);
    const name = input.name.trim();
    const created = await this.#db.tx(async (trx) => {
      if (await repo.findComponentByName(trx, name)) {
        throw conflict('component_exists', `A component named ${JSON.stringify(name)} already exists.`, { field: 'name' });
      }
      await repo.insertComponent(trx, {
        id,
        name,
        kind: input.kind,
        group_name: input.group?.trim() || null,
        description: input.description ?? null,
        position: input.position ?? (await repo.nextComponentPosition(trx)),
        status: input.status ?? 'operational',
        only_show_if_degraded: toDbBool(input.only_show_if_degraded ?? false),
        created_at: now,
        updated_at: now,
      });
      await recordAudit(trx, { at: now, actor, action: 'component.create', target: { type: 'component', id } });
      await bumpPublicRevision(trx, now);
      return (await repo.findComponent(trx, id)) as repo.Component;
    });
    this.#bus.emit('public.changed');
    return created;
  }

  async update(actor: Actor, id: string, patch: ComponentPatch): Promise<repo.Component> {
    const now = this.#clock.now();
    const updated = await this.#db.tx(async (trx) => {
      const current = await repo.findComponent(trx, id);
      if (!current) throw notFound('Component', id);
      const name = patch.name?.trim();
      if (name !== undefined && name !== current.name && (await repo.findComponentByName(trx, name))) {
        throw conflict('component_exists', `A component named ${JSON.stringify(name)} already exists.`, { field: 'name' });
      }
      await repo.updateComponent(trx, id, {
        ...(name !== undefined && { name }),
        ...(patch.kind !== undefined && { kind: patch.kind }),
        ...(patch.group !== undefined && { group_name: patch.group?.trim() || null }),
        ...(patch.description !== undefined && { description: patch.description }),
        ...(patch.position !== undefined && { position: patch.position }),
        ...(patch.status !== undefined && { status: patch.status }),
        ...(patch.only_show_if_degraded !== undefined && {
          only_show_if_degraded: toDbBool(patch.only_show_if_degraded),
        }),
        updated_at: now,
      });
      const changed = Object.keys(patch).filter((k) => patch[k as keyof ComponentPatch] !== undefined);
      await recordAudit(trx, {
        at: now,
        actor,
        action: 'component.update',
        target: { type: 'component', id },
        details: { fields: changed, ...(patch.status !== undefined && { from: current.status, to: patch.status }) },
      });
      await bumpPublicRevision(trx, now);
      return (await repo.findComponent(trx, id)) as repo.Component;
    });
    this.#bus.emit('public.changed');
    return updated;
  }
}
