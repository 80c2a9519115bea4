import type { Insertable } from 'kysely';
import { newId } from '../../core/ids.js';
import { fromDbBool, toDbBool, toDbJson } from '../../db/codec.js';
import type { Executor } from '../../db/database.js';
import type { LeadsTable } from '../../db/schema.js';
import { getSetting, putSetting } from '../../db/settings.repo.js';
import { type ComponentKind, outageChannel } from '../../incidents/incident.js';
import {
  decodeCursor,
  encodeCursor,
  type IncidentRef,
  type PulledContact,
  type SyncCursor,
  type SyncLead,
} from './connectors.js';

export type ConnectorName = 'webhook' | 'hubspot';

function cursorKey(connector: ConnectorName, incidentId: string): string {
  return `crm.sync.${connector}.${incidentId}`;
}

export async function readCursor(ex: Executor, connector: ConnectorName, incidentId: string): Promise<SyncCursor> {
  return decodeCursor(await getSetting(ex, cursorKey(connector, incidentId)));
}

export async function writeCursor(
  ex: Executor,
  connector: ConnectorName,
  incidentId: string,
  cursor: SyncCursor,
  now: number,
): Promise<void> {
  await putSetting(ex, cursorKey(connector, incidentId), encodeCursor(cursor), now);
}

/** The incident as the webhook names it; null when it does not exist. */
export async function findIncidentRef(ex: Executor, incidentId: string): Promise<IncidentRef | null> {
  const incident = await ex
    .selectFrom('incidents')
    .select(['id', 'name', 'status'])
    .where('id', '=', incidentId)
    .executeTakeFirst();
  if (!incident) return null;
  const first = await ex
    .selectFrom('incident_components')
    .innerJoin('components', 'components.id', 'incident_components.component_id')
    .select('components.kind')
    .where('incident_components.incident_id', '=', incidentId)
    .orderBy('incident_components.added_at')
    .orderBy('components.id')
    .executeTakeFirst();
  return {
    id: incident.id,
    name: incident.name,
    status: incident.status,
    channel: first ? outageChannel(first.kind as ComponentKind) : null,
  };
}

/**
 * The next leads of an incident whose row changed after the cursor, in (updated_at, id) order:
 * tagging, tier changes, re-engagement and recovery all move updated_at forward.
 */
export async function listChangedLeads(ex: Executor, incidentId: string, after: SyncCursor, limit: number): Promise<SyncLead[]> {
  const rows = await ex
    .selectFrom('leads')
    .select([
      'id',
      'external_id',
      'email',
      'outage_status',
      'outage_channel',
      'outage_priority',
      'fallback_sent',
      'tier',
      'tier_rule',
      're_engaged_at',
      'updated_at',
    ])
    .where('outage_incident_id', '=', incidentId)
    .where((eb) =>
      eb.or([eb('updated_at', '>', after.updatedAt), eb.and([eb('updated_at', '=', after.updatedAt), eb('id', '>', after.id)])]),
    )
    .orderBy('updated_at')
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    externalId: r.external_id,
    email: r.email,
    outageStatus: r.outage_status,
    outageChannel: r.outage_channel,
    outagePriority: r.outage_priority,
    fallbackSent: fromDbBool(r.fallback_sent),
    tier: r.tier,
    tierRule: r.tier_rule,
    reEngagedAt: r.re_engaged_at === null ? null : Number(r.re_engaged_at),
    updatedAt: Number(r.updated_at),
  }));
}

/**
 * Remember the HubSpot record ids found by email. Leaves updated_at alone (this is bookkeeping, not
 * a tag change) and never takes an id another lead already holds.
 */
export async function storeExternalIds(
  ex: Executor,
  found: ReadonlyArray<{ leadId: string; externalId: string }>,
): Promise<number> {
  let stored = 0;
  for (const { leadId, externalId } of found) {
    const result = await ex
      .updateTable('leads')
      .set({ external_id: externalId })
      .where('id', '=', leadId)
      .where('external_id', 'is', null)
      .where((eb) =>
        eb.not(eb.exists(eb.selectFrom('leads as other').select('other.id').where('other.external_id', '=', externalId))),
      )
      .executeTakeFirst();
    stored += Number(result.numUpdatedRows);
  }
  return stored;
}

/**
 * Upsert contacts pulled from HubSpot: matched by external id, then by email; new ones inserted
 * in one statement. Only the fields HubSpot gave replace stored ones. Returns counts.
 */
export async function upsertPulledContacts(
  ex: Executor,
  rows: readonly PulledContact[],
  now: number,
): Promise<{ created: number; updated: number }> {
  if (rows.length === 0) return { created: 0, updated: 0 };
  const ids = rows.map((r) => r.external_id);
  const emails = rows.flatMap((r) => (r.email ? [r.email] : []));
  const existing = await ex
    .selectFrom('leads')
    .select(['id', 'external_id', 'email'])
    .where((eb) =>
      emails.length > 0 ? eb.or([eb('external_id', 'in', ids), eb('email', 'in', emails)]) : eb('external_id', 'in', ids),
    )
    .execute();
  const byExternal = new Map(existing.flatMap((l) => (l.external_id ? [[l.external_id, l] as const] : [])));
  const byEmail = new Map(existing.flatMap((l) => (l.email ? [[l.email, l] as const] : [])));
  const inserts: Array<Insertable<LeadsTable>> = [];
  const seen = new Set<string>();
  let updated = 0;
  for (const row of rows) {
    if (seen.has(row.external_id) || (row.email && seen.has(`@${row.email}`))) continue;
    seen.add(row.external_id);
    if (row.email) seen.add(`@${row.email}`);
    const match = byExternal.get(row.external_id) ?? (row.email ? byEmail.get(row.email) : undefined);
    const fields = {
      ...(row.email !== null && { email: row.email }),
      ...(row.first_name !== null && { first_name: row.first_name }),
      ...(row.last_name !== null && { last_name: row.last_name }),
      ...(row.phone !== null && { phone: row.phone }),
      ...(row.company !== null && { company: row.company }),
      ...(row.title !== null && { title: row.title }),
      ...(row.lifecycle !== null && { lifecycle: row.lifecycle }),
    };
    if (match) {
      await ex
        .updateTable('leads')
        .set({ ...fields, ...(match.external_id === null && { external_id: row.external_id }), updated_at: now })
        .where('id', '=', match.id)
        .execute();
      updated++;
    } else {
      inserts.push({
        id: newId(now),
        external_id: row.external_id,
        email: row.email,
        phone: row.phone,
        first_name: row.first_name,
        last_name: row.last_name,
        title: row.title,
        company: row.company,
        lifecycle: row.lifecycle ?? 'lead',
        source: 'hubspot',
        consent_email: 'unknown',
        consent_sms: 'unknown',
        fallback_sent: toDbBool(false),
        attributes: toDbJson({}),
        created_at: now,
        updated_at: now,
      });
    }
  }
  if (inserts.length > 0) await ex.insertInto('leads').values(inserts).execute();
  return { created: inserts.length, updated };
}
