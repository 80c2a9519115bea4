import { createHash } from 'node:crypto';
import type { CatalogProduct } from './product.js';

/** JSON with sorted object keys: equal content, equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value ?? null);
}

export function contentHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

export interface SnapshotDiff {
  from: { id: string; version: number } | null;
  to: { id: string; version: number };
  added: string[];
  removed: string[];
  changed: Array<{ sku: string; fields: string[] }>;
  unchanged: number;
}

/** What changed between two product lists (by SKU), naming the fields of each changed product. */
export function diffProducts(
  before: ReadonlyMap<string, { hash: string; product: CatalogProduct }>,
  after: ReadonlyMap<string, { hash: string; product: CatalogProduct }>,
): Omit<SnapshotDiff, 'from' | 'to'> {
  const added: string[] = [];
  const removed: string[] = [];
  const changed: SnapshotDiff['changed'] = [];
  let unchanged = 0;
  for (const [sku, now] of after) {
    const was = before.get(sku);
    if (!was) added.push(sku);
    else if (was.hash === now.hash) unchanged++;
    else {
      const keys = new Set([...Object.keys(was.product), ...Object.keys(now.product)]);
      const fields = [...keys].filter(
        (k) =>
          canonicalJson((was.product as unknown as Record<string, unknown>)[k]) !==
          canonicalJson((now.product as unknown as Record<string, unknown>)[k]),
      );
      changed.push({ sku, fields });
    }
  }
  for (const sku of before.keys()) if (!after.has(sku)) removed.push(sku);
  return { added, removed, changed, unchanged };
}
