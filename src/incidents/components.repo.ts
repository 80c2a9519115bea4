import { fromDbBool } from '../db/codec.js';
import type { Executor } from '../db/database.js';
import type { NewRow, Row } from '../db/schema.js';
import type { ComponentKind, ComponentStatus } from './incident.js';

export interface Component {
  id: string;
  name: string;
  kind: ComponentKind;
  group: string | null;
  description: string | null;
  position: number;
  status: ComponentStatus;
  onlyShowIfDegraded: boolean;
  createdAt: number;
  updatedAt: number;
}

export function toComponent(row: Row<'components'>): Component {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind as ComponentKind,
    group: row.group_name,
    description: row.description,
    position: row.position,
    status: row.status as ComponentStatus,
    onlyShowIfDegraded: fromDbBool(row.only_show_if_degraded),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export async function listComponents(ex: Executor): Promise<Component[]> {
  const rows = await ex.selectFrom('components').selectAll().orderBy('position').orderBy('name').execute();
  return rows.map(toComponent);
}

export async function findComponent(ex: Executor, id: string): Promise<Component | undefined> {
  const row = await ex.selectFrom('components').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toComponent(row) : undefined;
}

export async function findComponentsByIds(ex: Executor, ids: readonly string[]): Promise<Map<string, Component>> {
  if (ids.length === 0) return new Map();
  const rows = await ex.selectFrom('components').selectAll().where('id', 'in', ids).execute();
  return new Map(rows.map((r) => [r.id, toComponent(r)]));
}

export async function findComponentByName(ex: Executor, name: string): Promise<Component | undefined> {
  const row = await ex.selectFrom('components').selectAll().where('name', '=', name).executeTakeFirst();
  return row ? toComponent(row) : undefined;
}

export async function nextComponentPosition(ex: Executor): Promise<number> {
  const row = await ex
    .selectFrom('components')
    .select((eb) => eb.fn.max('position').as('max'))
    .executeTakeFirst();
  return Number(row?.max ?? 0) + 1;
}

export async function insertComponent(ex: Executor, row: NewRow<'components'>): Promise<void> {
  await ex.insertInto('components').values(row).execute();
}

export async function updateComponent(
  ex: Executor,
  id: string,
  patch: Partial<Omit<NewRow<'components'>, 'id' | 'created_at'>>,
): Promise<void> {
  await ex.updateTable('components').set(patch).where('id', '=', id).execute();
}
