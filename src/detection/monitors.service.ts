import type { Actor } from '../app/actor.js';
import { parseInput } from '../app/validation.js';
import { recordAudit } from '../audit/audit.repo.js';
import type { Bus } from '../core/bus.js';
import type { Clock } from '../core/clock.js';
import { notFound, unprocessable } from '../core/errors.js';
import type { Database } from '../db/database.js';
import { findComponent, findComponentByName } from '../incidents/components.repo.js';
import * as repo from './detection.repo.js';
import { dnsCheckSchema, httpCheckSchema, MIN_INTERVAL_MS, type MonitorType, tlsCheckSchema } from './monitor.js';

export interface MonitorInput {
  component: string;
  name: string;
  type: MonitorType;
  check: unknown;
  interval_seconds: number;
  regions: string[];
  failures_to_down?: number | undefined;
  successes_to_up?: number | undefined;
  enabled?: boolean | undefined;
}

const CHECK_SCHEMAS = { http: httpCheckSchema, tls: tlsCheckSchema, dns: dnsCheckSchema } as const;

/** Monitors: what to check for each component, how often and from which regions. */
export class MonitorService {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #bus: Bus | undefined;
  readonly #defaults: { failuresToDown: number; successesToUp: number };

  constructor(deps: {
    db: Database;
    clock: Clock;
    bus?: Bus;
    defaults: { failuresToDown: number; successesToUp: number };
  }) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#bus = deps.bus;
    this.#defaults = deps.defaults;
  }

  list(filter: { componentId?: string } = {}): Promise<repo.Monitor[]> {
    return repo.listMonitors(this.#db.kysely, filter);
  }

  async get(id: string): Promise<repo.Monitor> {
    const monitor = await repo.findMonitor(this.#db.kysely, id);
    if (!monitor) throw notFound('Monitor', id);
    return monitor;
  }

  async create(actor: Actor, input: MonitorInput): Promise<repo.Monitor> {
    const now = this.#clock.now();
    const id = await this.#db.tx(async (trx) => {
      const values = await this.#validate(trx, input);
      const created = await repo.insertMonitor(trx, values, now);
      await recordAudit(trx, {
        at: now,
        actor,
        action: 'monitor.create',
        target: { type: 'monitor', id: created },
        details: { type: input.type },
      });
      return created;
    });
    this.#bus?.emit('monitors.changed');
    return this.get(id);
  }

  async update(actor: Actor, id: string, input: MonitorInput): Promise<repo.Monitor> {
    const now = this.#clock.now();
    await this.#db.tx(async (trx) => {
      if (!(await repo.findMonitor(trx, id))) throw notFound('Monitor', id);
      await repo.updateMonitor(trx, id, await this.#validate(trx, input), now);
      await recordAudit(trx, { at: now, actor, action: 'monitor.update', target: { type: 'monitor', id } });
    });
    this.#bus?.emit('monitors.changed');
    return this.get(id);
  }

  async remove(actor: Actor, id: string): Promise<void> {
    const now = this.#clock.now();
    await this.#db.tx(async (trx) => {
      if (!(await repo.deleteMonitor(trx, id))) throw notFound('Monitor', id);
      await recordAudit(trx, { at: now, actor, action: 'monitor.delete', target: { type: 'monitor', id } });
    });
    this.#bus?.emit('monitors.changed');
  }

  async #validate(
    trx: Parameters<Parameters<Database['tx']>[0]>[0],
    input: MonitorInput,
  ): Promise<Omit<repo.Monitor, 'id' | 'createdAt' | 'updatedAt'>> {
    const component = (await findComponent(trx, input.component)) ?? (await findComponentByName(trx, input.component));
    if (!component) {
      throw unprocessable('unknown_component', `Unknown component ${JSON.stringify(input.component)} (give its id or name).`, {
        field: 'component',
      });
    }
    const intervalMs = Math.round(input.interval_seconds * 1000);
    if (intervalMs < MIN_INTERVAL_MS) {
      throw unprocessable('interval_too_short', `Checks run at most every ${MIN_INTERVAL_MS / 1000} s.`, {
        field: 'interval_seconds',
      });
    }
    const check = parseInput(CHECK_SCHEMAS[input.type], input.check, 'body');
    if ('timeoutMs' in check && check.timeoutMs > intervalMs) {
      throw unprocessable(
        'timeout_too_long',
        'A check must time out before its next run: lower check.timeoutMs or raise interval_seconds.',
        {
          field: 'check.timeoutMs',
        },
      );
    }
    return {
      componentId: component.id,
      name: input.name.trim(),
      type: input.type,
      check,
      intervalMs,
      regions: input.regions.length > 0 ? [...new Set(input.regions)] : ['*'],
      failuresToDown: input.failures_to_down ?? this.#defaults.failuresToDown,
      successesToUp: input.successes_to_up ?? this.#defaults.successesToUp,
      enabled: input.enabled ?? true,
    };
  }
}
