import type { Kysely } from 'kysely';
import type { Actor } from '../../app/actor.js';
import { recordAudit } from '../../audit/audit.repo.js';
import type { Bus } from '../../core/bus.js';
import type { Clock } from '../../core/clock.js';
import { notFound } from '../../core/errors.js';
import { fromDbBool, fromDbJson, toDbBool, toDbJson } from '../../db/codec.js';
import type { Database, Executor } from '../../db/database.js';
import { type ComponentKind, OPEN_STATUSES, outageChannel } from '../../incidents/incident.js';
import {
  DEFAULT_FLAGS,
  evaluateFlag,
  type FlagDefinition,
  type FlagEvaluation,
  type FlagOverride,
  type FlagValue,
  mergeDefinitions,
  type OpenIncidentFacts,
  renderFlagsJson,
} from './flags.js';

interface FlagsTable {
  key: string;
  description: string;
  default_value: unknown;
  rules: unknown;
  enabled: number | boolean;
  override: unknown;
  created_at: number;
  updated_at: number;
}

type FlagsDb = { flags: FlagsTable };
const flagsDb = (ex: Executor) => ex as unknown as Kysely<FlagsDb>;

function fromRow(row: FlagsTable): FlagDefinition {
  return {
    key: row.key,
    description: row.description,
    defaultValue: fromDbJson<FlagValue>(row.default_value as string, false),
    rules: fromDbJson(row.rules as string, []),
    enabled: fromDbBool(row.enabled as number),
    override: fromDbJson<FlagOverride | null>(row.override as string | null, null),
  };
}

/** Open, non-drill incidents with the components they affect. */
export async function openIncidentFacts(ex: Executor): Promise<OpenIncidentFacts[]> {
  const rows = await ex
    .selectFrom('incidents as i')
    .innerJoin('incident_components as ic', 'ic.incident_id', 'i.id')
    .innerJoin('components as c', 'c.id', 'ic.component_id')
    .select(['i.id as incidentId', 'c.name as name', 'c.kind as kind'])
    .where('i.status', 'in', [...OPEN_STATUSES])
    .where('i.drill', '=', toDbBool(false) as never)
    .orderBy('i.id')
    .execute();
  const byIncident = new Map<string, OpenIncidentFacts>();
  for (const r of rows) {
    let facts = byIncident.get(r.incidentId);
    if (!facts) {
      facts = { incidentId: r.incidentId, components: [] };
      byIncident.set(r.incidentId, facts);
    }
    const kind = r.kind as ComponentKind;
    facts.components.push({ name: r.name, kind, channel: outageChannel(kind) });
  }
  return [...byIncident.values()];
}

/**
 * Kill switches, evaluated live from the flags and the open incidents (so they flip the moment an
 * incident opens or resolves, with no job in between). Overrides are audited.
 */
export class FlagService {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #bus: Bus;
  readonly #builtIn: readonly FlagDefinition[];

  constructor(deps: { db: Database; clock: Clock; bus: Bus; builtIn?: readonly FlagDefinition[] }) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#bus = deps.bus;
    this.#builtIn = deps.builtIn ?? DEFAULT_FLAGS;
  }

  async definitions(ex: Executor = this.#db.kysely): Promise<FlagDefinition[]> {
    const rows = await flagsDb(ex).selectFrom('flags').selectAll().execute();
    return mergeDefinitions(rows.map(fromRow), this.#builtIn);
  }

  async evaluateAll(ex: Executor = this.#db.kysely): Promise<FlagEvaluation[]> {
    const [defs, incidents] = await Promise.all([this.definitions(ex), openIncidentFacts(ex)]);
    return defs.map((d) => evaluateFlag(d, incidents));
  }

  /** null when no such flag. */
  async evaluate(key: string): Promise<FlagEvaluation | null> {
    const all = await this.evaluateAll();
    return all.find((e) => e.key === key) ?? null;
  }

  /** The static flags.json for the publisher (beside the mirror and the status files). */
  async renderFlagsJson(): Promise<string> {
    return renderFlagsJson(await this.evaluateAll(), new Date(this.#clock.now()).toISOString());
  }

  /** Pin a value (reason required), or clear the pin with value null. */
  async setOverride(actor: Actor, key: string, value: FlagValue | null, reason: string): Promise<FlagEvaluation> {
    const now = this.#clock.now();
    await this.#db.tx(async (trx) => {
      const current = (await this.definitions(trx)).find((d) => d.key === key);
      if (!current) throw notFound('Flag', key);
      const override: FlagOverride | null = value === null ? null : { value, reason, by: actor.name ?? actor.type, at: now };
      const row = {
        key,
        description: current.description,
        default_value: toDbJson(current.defaultValue),
        rules: toDbJson(current.rules),
        enabled: toDbBool(current.enabled),
        override: override === null ? null : toDbJson(override),
        created_at: now,
        updated_at: now,
      };
      await flagsDb(trx)
        .insertInto('flags')
        .values(row)
        .onConflict((oc) => oc.column('key').doUpdateSet({ override: row.override, updated_at: now }))
        .execute();
      await recordAudit(trx, {
        at: now,
        actor,
        action: value === null ? 'flag.override_cleared' : 'flag.override_set',
        target: { type: 'flag', id: key },
        details: { value, reason, previous: current.override?.value ?? null },
      });
    });
    this.#bus.emit('public.changed');
    const out = await this.evaluate(key);
    if (!out) throw notFound('Flag', key);
    return out;
  }
}
