import type { Clock } from '../core/clock.js';
import { toIsoOrNull } from '../core/clock.js';
import { notFound, unprocessable } from '../core/errors.js';
import { fromDbBool, fromDbJson } from '../db/codec.js';
import type { Database } from '../db/database.js';
import type { Row } from '../db/schema.js';
import { csvLine } from './import/csv.js';
import { type ImportOptions, type ImportSummary, LeadImportService } from './import/import.service.js';
import { type ImportFormat, type SourceRecord, sourceFor } from './import/sources.js';
import * as repo from './leads.repo.js';

export interface LeadView {
  id: string;
  external_id: string | null;
  email: string | null;
  phone: string | null;
  first_name: string | null;
  last_name: string | null;
  title: string | null;
  company: string | null;
  owner_id: string | null;
  owner_ref: string | null;
  lifecycle: string;
  crm_status: string | null;
  source: string | null;
  arr_potential: number | null;
  cart_value: number | null;
  demo_scheduled_at: string | null;
  last_activity_at: string | null;
  timezone: string | null;
  consent_email: string;
  consent_sms: string;
  attributes: Record<string, unknown>;
  outage_status: string | null;
  outage_channel: string | null;
  outage_priority: string | null;
  fallback_sent: boolean;
  outage_incident_id: string | null;
  tier: string | null;
  tier_rule: string | null;
  tagged_at: string | null;
  re_engaged_at: string | null;
  created_at: string;
  updated_at: string;
}

const num = (v: number | string | null): number | null => (v === null ? null : Number(v));

export function toLeadView(r: Row<'leads'>): LeadView {
  return {
    id: r.id,
    external_id: r.external_id,
    email: r.email,
    phone: r.phone,
    first_name: r.first_name,
    last_name: r.last_name,
    title: r.title,
    company: r.company,
    owner_id: r.owner_id,
    owner_ref: r.owner_ref,
    lifecycle: r.lifecycle,
    crm_status: r.crm_status,
    source: r.source,
    arr_potential: num(r.arr_potential),
    cart_value: num(r.cart_value),
    demo_scheduled_at: toIsoOrNull(num(r.demo_scheduled_at)),
    last_activity_at: toIsoOrNull(num(r.last_activity_at)),
    timezone: r.timezone,
    consent_email: r.consent_email,
    consent_sms: r.consent_sms,
    attributes: fromDbJson<Record<string, unknown>>(r.attributes, {}),
    outage_status: r.outage_status,
    outage_channel: r.outage_channel,
    outage_priority: r.outage_priority,
    fallback_sent: fromDbBool(r.fallback_sent),
    outage_incident_id: r.outage_incident_id,
    tier: r.tier,
    tier_rule: r.tier_rule,
    tagged_at: toIsoOrNull(num(r.tagged_at)),
    re_engaged_at: toIsoOrNull(num(r.re_engaged_at)),
    created_at: toIsoOrNull(num(r.created_at)) ?? '',
    updated_at: toIsoOrNull(num(r.updated_at)) ?? '',
  };
}

/** Columns of the CSV export, in order (the outage fields included). */
export const EXPORT_COLUMNS = [
  'keepwarm_id',
  'external_id',
  'email',
  'phone',
  'first_name',
  'last_name',
  'title',
  'company',
  'keepwarm_owner_id',
  'owner_ref',
  'lifecycle',
  'crm_status',
  'source',
  'arr_potential',
  'cart_value',
  'demo_scheduled_at',
  'last_activity_at',
  'timezone',
  'consent_email',
  'consent_sms',
  'outage_status',
  'outage_channel',
  'outage_priority',
  'fallback_sent',
  'outage_incident_id',
  'tier',
  'tier_rule',
  'tagged_at',
  're_engaged_at',
  'created_at',
  'updated_at',
] as const satisfies ReadonlyArray<keyof LeadView | 'keepwarm_id' | 'keepwarm_owner_id'>;

export class LeadService {
  readonly importer: LeadImportService;

  constructor(private readonly deps: { db: Database; clock: Clock; importMapping: Readonly<Record<string, string>> }) {
    this.importer = new LeadImportService({ db: deps.db, clock: deps.clock, mapping: deps.importMapping });
  }

  import(
    format: ImportFormat,
    input: string | AsyncIterable<string | Buffer>,
    options: ImportOptions = {},
  ): Promise<ImportSummary> {
    return this.importer.importLeads(sourceFor(format, input), options);
  }

  async list(filter: repo.LeadFilter): Promise<{ leads: LeadView[]; next_cursor: string | null }> {
    const rows = await repo.listLeads(this.deps.db.kysely, filter);
    const last = rows.at(-1);
    return { leads: rows.map(toLeadView), next_cursor: rows.length === filter.limit && last ? last.id : null };
  }

  async get(id: string) {
    const db = this.deps.db.kysely;
    const row = await repo.getLead(db, id);
    if (!row) throw notFound('Lead', id);
    const [counts, events] = await Promise.all([repo.relatedCounts(db, id), repo.recentEvents(db, id, 50)]);
    return {
      ...toLeadView(row),
      counts,
      intent_events: events.map((e) => ({
        message_id: e.message_id,
        type: e.type,
        product: e.product,
        value: num(e.value),
        properties: fromDbJson<Record<string, unknown>>(e.properties, {}),
        at: toIsoOrNull(num(e.at)),
        source: e.source,
        incident_id: e.incident_id,
      })),
    };
  }

  /** Create or update one lead with the import's rules (same names, same validation). */
  async upsert(body: Record<string, unknown>): Promise<{ created: boolean; lead: LeadView }> {
    const entries = Object.entries(body);
    async function* one(): AsyncGenerator<SourceRecord[]> {
      yield [{ row: 1, header: entries.map(([k]) => k), cells: entries.map(([, v]) => v) }];
    }
    const summary = await this.importer.importLeads(one(), { previewRows: 1 });
    if (summary.errors > 0) {
      const first = summary.error_list[0];
      throw unprocessable(
        'invalid_lead',
        `The lead is not valid: ${first ? `${first.column}: ${first.message}` : 'invalid input'}`,
        summary.error_list.map((e) => ({ field: e.column, message: e.message })),
      );
    }
    const preview = summary.preview[0];
    const key = preview?.lead;
    let q = this.deps.db.kysely.selectFrom('leads').selectAll();
    if (typeof key?.id === 'string') q = q.where('id', '=', key.id);
    else if (typeof key?.external_id === 'string') q = q.where('external_id', '=', key.external_id);
    else q = q.where('email', '=', String(key?.email));
    const row = await q.executeTakeFirstOrThrow();
    return { created: summary.created === 1, lead: toLeadView(row) };
  }

  /** The CSV export, streamed page by page; formula-looking cells are defused. */
  async *exportCsv(): AsyncGenerator<string> {
    yield `\uFEFF${csvLine(EXPORT_COLUMNS)}`;
    let lines: string[] = [];
    for await (const row of repo.allLeads(this.deps.db.kysely)) {
      const view = toLeadView(row);
      lines.push(
        csvLine(EXPORT_COLUMNS.map((c) => (c === 'keepwarm_id' ? view.id : c === 'keepwarm_owner_id' ? view.owner_id : view[c]))),
      );
      if (lines.length >= 1000) {
        yield lines.join('');
        lines = [];
      }
    }
    if (lines.length > 0) yield lines.join('');
  }
}
