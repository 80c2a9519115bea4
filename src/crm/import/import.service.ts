import type { Clock } from '../../core/clock.js';
import { badRequest } from '../../core/errors.js';
import type { Database } from '../../db/database.js';
import { diffLead, type LeadFields, SCALAR_FIELDS, type StoredLead } from '../leads.js';
import * as repo from '../leads.repo.js';
import { newBulkId } from './ids.js';
import { type ColumnPlan, checkCustomMapping, type MappedRow, mapRecord, planColumns, type RowError } from './mapping.js';
import type { SourceRecord } from './sources.js';

export interface ImportOptions {
  dryRun?: boolean;
  /** Import the valid rows and report the others (default: any error imports nothing). */
  skipInvalid?: boolean;
  /** Rows shown as they would be stored (default 10). */
  previewRows?: number;
  /** Errors listed (default 100; the count is always complete). */
  maxErrors?: number;
  /** Rows per write transaction (default 10,000). */
  batchRows?: number;
  onProgress?: (p: ImportProgress) => void;
}

export interface ImportProgress {
  phase: 'read' | 'write';
  rows: number;
  /** write: rows to write in all. */
  total?: number;
}

export type RowAction = 'create' | 'update' | 'unchanged';

export interface ImportSummary {
  dry_run: boolean;
  /** Whether anything was written. */
  applied: boolean;
  rows: number;
  created: number;
  updated: number;
  unchanged: number;
  errors: number;
  error_list: RowError[];
  preview: Array<{ row: number; action: RowAction; lead: Record<string, unknown> }>;
  columns: Array<{ column: string; field: string }>;
  ms: number;
  /** Where the time went: reading and validating, matching existing leads, writing. */
  phases: { read_ms: number; match_ms: number; write_ms: number };
}

interface Planned {
  row: number;
  action: RowAction;
  fields: LeadFields;
  ownerId: string | null | undefined;
  existing?: StoredLead;
  changes?: Partial<Omit<StoredLead, 'id'>>;
}

const MATCH_CHUNK = 2000;

/**
 * Lead import: read every record, validate and match it, then write. All-or-nothing by default:
 * when any row has an error nothing is written and every error names its row and column.
 * Re-importing the same file changes nothing (rows match by external id, else by email, and
 * unchanged rows are not rewritten).
 */
export class LeadImportService {
  constructor(private readonly deps: { db: Database; clock: Clock; mapping: Readonly<Record<string, string>> }) {
    const problems = checkCustomMapping(deps.mapping);
    if (problems.length > 0) throw new Error(problems.join('; '));
  }

  async importLeads(source: AsyncIterable<readonly SourceRecord[]>, options: ImportOptions = {}): Promise<ImportSummary> {
    const started = performance.now();
    const { db, clock } = this.deps;
    const maxErrors = options.maxErrors ?? 100;
    const errors: RowError[] = [];
    let errorCount = 0;
    const addError = (e: RowError) => {
      errorCount++;
      if (errors.length < maxErrors) errors.push(e);
    };
    const rows: MappedRow[] = [];
    let plan: ColumnPlan[] = [];
    let planHeader: readonly string[] | null = null;
    let planKey = '';
    let total = 0;
    let firstPlan: ColumnPlan[] | null = null;
    for await (const records of source)
      for (const record of records) {
        total++;
        if (record.error) {
          addError({ row: record.row, ...record.error });
          continue;
        }
        if (record.header !== planHeader) {
          const key = record.header.join('\u0000');
          if (key !== planKey) {
            plan = planColumns(record.header, this.deps.mapping);
            planKey = key;
          }
          planHeader = record.header;
          firstPlan ??= plan;
        }
        const mapped = mapRecord(record.row, plan, record.cells);
        if (mapped.ok) rows.push(mapped.value);
        else for (const e of mapped.errors) addError(e);
        if (options.onProgress && total % 5000 === 0) options.onProgress({ phase: 'read', rows: total });
      }
    options.onProgress?.({ phase: 'read', rows: total });
    const readDone = performance.now();

    // Duplicates inside the file: the later row is the error (which one wins would be a guess).
    const seenExternal = new Map<string, number>();
    const seenEmail = new Map<string, number>();
    const unique: MappedRow[] = [];
    for (const r of rows) {
      const ext = r.fields.external_id;
      const email = r.fields.email;
      const dupExt = ext === undefined ? undefined : seenExternal.get(ext);
      const dupEmail = email === undefined ? undefined : seenEmail.get(email);
      if (dupExt !== undefined) addError({ row: r.row, column: 'external id', message: `repeats row ${dupExt}` });
      else if (dupEmail !== undefined) addError({ row: r.row, column: 'Email', message: `repeats the email of row ${dupEmail}` });
      else {
        if (ext !== undefined) seenExternal.set(ext, r.row);
        if (email !== undefined) seenEmail.set(email, r.row);
        unique.push(r);
      }
    }

    const owners = await repo.userIdsByEmail(db.kysely);
    const planned: Planned[] = [];
    for (let i = 0; i < unique.length; i += MATCH_CHUNK) {
      const chunk = unique.slice(i, i + MATCH_CHUNK);
      const externalIds = chunk.flatMap((r) => (r.fields.external_id === undefined ? [] : [r.fields.external_id]));
      const emails = chunk.flatMap((r) => (r.fields.email === undefined ? [] : [r.fields.email]));
      const { byExternal, byEmail } = await repo.findMatching(db.kysely, externalIds, emails);
      for (const r of chunk) {
        const { fields } = r;
        // An owner no user matches is kept in owner_ref; it does not clear an owner Keepwarm knows.
        const ownerId = fields.owner_ref === undefined ? undefined : owners.get(fields.owner_ref.toLowerCase());
        const existing =
          (fields.external_id === undefined ? undefined : byExternal.get(fields.external_id)) ??
          (fields.email === undefined ? undefined : byEmail.get(fields.email));
        if (!existing) {
          planned.push({ row: r.row, action: 'create', fields, ownerId });
          continue;
        }
        const emailOwner = fields.email === undefined ? undefined : byEmail.get(fields.email);
        if (emailOwner && emailOwner.id !== existing.id) {
          addError({ row: r.row, column: 'Email', message: `${fields.email} belongs to another lead (${emailOwner.id})` });
          continue;
        }
        if (fields.external_id !== undefined && existing.external_id !== null && existing.external_id !== fields.external_id) {
          addError({
            row: r.row,
            column: 'external id',
            message: `the lead with this email has external id ${existing.external_id}, not ${fields.external_id}`,
          });
          continue;
        }
        const changes = diffLead(existing, fields, ownerId);
        planned.push({
          row: r.row,
          action: Object.keys(changes).length === 0 ? 'unchanged' : 'update',
          fields,
          ownerId,
          existing,
          changes,
        });
      }
    }

    const matchDone = performance.now();
    const counts = { created: 0, updated: 0, unchanged: 0 };
    for (const p of planned) counts[p.action === 'create' ? 'created' : p.action === 'update' ? 'updated' : 'unchanged']++;
    errors.sort((a, b) => a.row - b.row);
    const previewCount = options.previewRows ?? 10;
    const now = clock.now();
    const summary: ImportSummary = {
      dry_run: options.dryRun === true,
      applied: false,
      rows: total,
      ...counts,
      errors: errorCount,
      error_list: errors,
      preview: planned.slice(0, previewCount).map((p) => ({ row: p.row, action: p.action, lead: previewOf(p) })),
      columns: (firstPlan ?? []).map((c) => ({ column: c.header, field: c.target ?? 'attributes' })),
      ms: 0,
      phases: { read_ms: Math.round(readDone - started), match_ms: Math.round(matchDone - readDone), write_ms: 0 },
    };
    const blocked = errorCount > 0 && options.skipInvalid !== true;
    if (options.dryRun || blocked) {
      if (blocked) {
        summary.created = 0;
        summary.updated = 0;
        summary.unchanged = 0;
      }
      summary.ms = Math.round(performance.now() - started);
      return summary;
    }

    const toWrite = planned.filter((p) => p.action !== 'unchanged');
    const batchRows = options.batchRows ?? 10_000;
    let written = 0;
    // One transaction for the whole file: an import is applied completely or not at all, even if
    // the database fails half-way (batches only pace the progress reports and statement sizes).
    await db.tx(async (trx) => {
      for (let i = 0; i < toWrite.length; i += batchRows) {
        const batch = toWrite.slice(i, i + batchRows);
        const inserts: repo.BulkLead[] = [];
        for (const p of batch) {
          if (p.action === 'create') inserts.push(newLeadRow(p.fields, p.ownerId ?? null, now));
          else if (p.existing && p.changes) await repo.updateLead(trx, p.existing.id, p.changes, now);
        }
        await repo.insertLeads(trx, db.dialect, inserts);
        written += batch.length;
        options.onProgress?.({ phase: 'write', rows: written, total: toWrite.length });
      }
    });
    summary.applied = toWrite.length > 0;
    summary.ms = Math.round(performance.now() - started);
    summary.phases.write_ms = Math.round(performance.now() - matchDone);
    return summary;
  }
}

export function newLeadRow(fields: LeadFields, ownerId: string | null, now: number): repo.BulkLead {
  return {
    id: newBulkId(now),
    external_id: fields.external_id ?? null,
    email: fields.email ?? null,
    phone: fields.phone ?? null,
    first_name: fields.first_name ?? null,
    last_name: fields.last_name ?? null,
    title: fields.title ?? null,
    company: fields.company ?? null,
    owner_id: ownerId,
    owner_ref: fields.owner_ref ?? null,
    lifecycle: fields.lifecycle ?? 'lead',
    crm_status: fields.crm_status ?? null,
    source: fields.source ?? null,
    arr_potential: fields.arr_potential ?? null,
    cart_value: fields.cart_value ?? null,
    demo_scheduled_at: fields.demo_scheduled_at ?? null,
    last_activity_at: fields.last_activity_at ?? null,
    timezone: fields.timezone ?? null,
    consent_email: fields.consent_email ?? 'unknown',
    consent_sms: fields.consent_sms ?? 'unknown',
    attributes: JSON.stringify(fields.attributes ?? {}),
    created_at: now,
    updated_at: now,
  };
}

function previewOf(p: Planned): Record<string, unknown> {
  const base: Record<string, unknown> = p.existing ? { id: p.existing.id } : {};
  const merged: Record<string, unknown> = { ...(p.existing ?? {}), ...p.fields, ...(p.changes ?? {}) };
  const out: Record<string, unknown> = { ...base };
  for (const key of [...SCALAR_FIELDS, 'attributes'] as const) {
    const v = merged[key];
    if (v === undefined) continue;
    out[key] =
      (key === 'demo_scheduled_at' || key === 'last_activity_at') && typeof v === 'number' ? new Date(v).toISOString() : v;
  }
  if (p.ownerId !== undefined) out.owner_id = p.ownerId;
  if (p.changes) out.changed = Object.keys(p.changes);
  return out;
}

export function requireFormat(value: string | undefined, fileName?: string): 'csv' | 'json' {
  if (value === 'csv' || value === 'json') return value;
  if (value !== undefined) throw badRequest('invalid_format', `format: expected csv or json, got ${JSON.stringify(value)}`);
  if (fileName && /\.(json|jsonl|ndjson)$/i.test(fileName)) return 'json';
  return 'csv';
}
