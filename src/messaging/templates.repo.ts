import { newId } from '../core/ids.js';
import type { Database, Executor } from '../db/database.js';
import type { NewRow, Row } from '../db/schema.js';
import type { Purpose, TemplateChannel } from './messaging.js';
import type { TemplateState } from './templates.js';

export interface TemplateRecord {
  id: string;
  key: string;
  locale: string;
  channel: TemplateChannel;
  purpose: Purpose;
  name: string;
  description: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface VersionRecord {
  id: string;
  templateId: string;
  version: number;
  state: TemplateState;
  subject: string | null;
  body: string;
  createdBy: string | null;
  createdAt: number;
  updatedAt: number;
  submittedBy: string | null;
  submittedAt: number | null;
  approvedBy: string | null;
  approvedAt: number | null;
  retiredBy: string | null;
  retiredAt: number | null;
  reviewNote: string | null;
}

export function toTemplate(row: Row<'templates'>): TemplateRecord {
  return {
    id: row.id,
    key: row.key,
    locale: row.locale,
    channel: row.channel as TemplateChannel,
    purpose: row.purpose as Purpose,
    name: row.name,
    description: row.description,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function toVersion(row: Row<'template_versions'>): VersionRecord {
  return {
    id: row.id,
    templateId: row.template_id,
    version: row.version,
    state: row.state as TemplateState,
    subject: row.subject,
    body: row.body,
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    submittedBy: row.submitted_by,
    submittedAt: row.submitted_at,
    approvedBy: row.approved_by,
    approvedAt: row.approved_at,
    retiredBy: row.retired_by,
    retiredAt: row.retired_at,
    reviewNote: row.review_note,
  };
}

/** Insert a template unless its key+locale exists; true when inserted. */
export async function insertTemplate(ex: Executor, row: NewRow<'templates'>): Promise<boolean> {
  const inserted = await ex
    .insertInto('templates')
    .values(row)
    .onConflict((oc) => oc.columns(['key', 'locale']).doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted !== undefined;
}

/** Load a template; on PostgreSQL inside a transaction, lock it so its versions change one at a time. */
export async function findTemplate(ex: Executor, id: string, lock?: Database['dialect']): Promise<TemplateRecord | undefined> {
  let q = ex.selectFrom('templates').selectAll().where('id', '=', id);
  if (lock === 'postgres') q = q.forUpdate();
  const row = await q.executeTakeFirst();
  return row ? toTemplate(row) : undefined;
}

export async function findTemplateByKey(ex: Executor, key: string, locale: string): Promise<TemplateRecord | undefined> {
  const row = await ex.selectFrom('templates').selectAll().where('key', '=', key).where('locale', '=', locale).executeTakeFirst();
  return row ? toTemplate(row) : undefined;
}

export async function updateTemplate(
  ex: Executor,
  id: string,
  patch: Partial<Pick<NewRow<'templates'>, 'name' | 'description' | 'updated_at'>>,
): Promise<void> {
  await ex.updateTable('templates').set(patch).where('id', '=', id).execute();
}

export async function listTemplates(
  ex: Executor,
  filter: { channel?: TemplateChannel; key?: string; locale?: string; limit: number },
): Promise<TemplateRecord[]> {
  let q = ex.selectFrom('templates').selectAll().orderBy('channel').orderBy('key').orderBy('locale').limit(filter.limit);
  if (filter.channel) q = q.where('channel', '=', filter.channel);
  if (filter.key) q = q.where('key', '=', filter.key);
  if (filter.locale) q = q.where('locale', '=', filter.locale);
  return (await q.execute()).map(toTemplate);
}

/** Versions of the given templates, newest first within each template. */
export async function listVersions(ex: Executor, templateIds: readonly string[]): Promise<VersionRecord[]> {
  if (templateIds.length === 0) return [];
  const rows = await ex
    .selectFrom('template_versions')
    .selectAll()
    .where('template_id', 'in', templateIds)
    .orderBy('template_id')
    .orderBy('version', 'desc')
    .execute();
  return rows.map(toVersion);
}

/** Version states of the given templates (for lists: no bodies). */
export async function listVersionStates(
  ex: Executor,
  templateIds: readonly string[],
): Promise<Array<{ templateId: string; version: number; state: TemplateState; updatedAt: number }>> {
  if (templateIds.length === 0) return [];
  const rows = await ex
    .selectFrom('template_versions')
    .select(['template_id', 'version', 'state', 'updated_at'])
    .where('template_id', 'in', templateIds)
    .where('state', 'in', ['draft', 'in_review', 'approved'])
    .execute();
  return rows.map((r) => ({
    templateId: r.template_id,
    version: r.version,
    state: r.state as TemplateState,
    updatedAt: r.updated_at,
  }));
}

/** A new draft version row: the review columns start empty. */
export function draftVersionRow(input: {
  templateId: string;
  version: number;
  subject: string | null;
  body: string;
  author: string;
  now: number;
}): NewRow<'template_versions'> {
  return {
    id: newId(input.now),
    template_id: input.templateId,
    version: input.version,
    state: 'draft',
    subject: input.subject,
    body: input.body,
    created_by: input.author,
    created_at: input.now,
    updated_at: input.now,
    submitted_by: null,
    submitted_at: null,
    approved_by: null,
    approved_at: null,
    retired_by: null,
    retired_at: null,
    review_note: null,
  };
}

export async function insertVersion(ex: Executor, row: NewRow<'template_versions'>): Promise<void> {
  await ex.insertInto('template_versions').values(row).execute();
}

export async function updateVersion(
  ex: Executor,
  id: string,
  patch: Partial<Omit<NewRow<'template_versions'>, 'id' | 'template_id' | 'version' | 'created_at' | 'created_by'>>,
): Promise<void> {
  await ex.updateTable('template_versions').set(patch).where('id', '=', id).execute();
}

/** How many templates have a version awaiting review. */
export async function countAwaitingReview(ex: Executor): Promise<number> {
  const row = await ex
    .selectFrom('template_versions')
    .select((eb) => eb.fn.count<number>('template_id').distinct().as('n'))
    .where('state', '=', 'in_review')
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** The approved version of key+locale, joined with its template. */
export async function findApproved(
  ex: Executor,
  key: string,
  locale: string,
): Promise<{ template: TemplateRecord; version: VersionRecord } | undefined> {
  const template = await findTemplateByKey(ex, key, locale);
  if (!template) return undefined;
  const row = await ex
    .selectFrom('template_versions')
    .selectAll()
    .where('template_id', '=', template.id)
    .where('state', '=', 'approved')
    .orderBy('version', 'desc')
    .executeTakeFirst();
  return row ? { template, version: toVersion(row) } : undefined;
}
