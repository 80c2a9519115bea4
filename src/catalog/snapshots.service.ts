import { writeFile } from 'node:fs/promises';
import type { Clock } from '../core/clock.js';
import { AppError, notFound } from '../core/errors.js';
import { newId } from '../core/ids.js';
import { fromDbJson, toDbJson } from '../db/codec.js';
import type { Database, Executor } from '../db/database.js';
import { type CatalogFormat, CatalogFormatError, type ParsedCatalog, parseCatalog } from './import/parse.js';
import type { CatalogCategory, CatalogIssue, CatalogProduct, CatalogSnapshotFile } from './product.js';
import { contentHash, diffProducts, type SnapshotDiff } from './snapshots.js';

export interface CatalogImportOptions {
  file: string;
  format?: CatalogFormat | null;
  locale?: string | null;
  currency?: string | null;
  mapping?: Record<string, string> | null;
  dryRun?: boolean;
  skipInvalid?: boolean;
  actor?: string | null;
}

export interface SnapshotSummary {
  id: string;
  version: number;
  created_at: string;
  source: string;
  format: string;
  product_count: number;
  content_hash: string;
}

export interface CatalogImportReport {
  file: string;
  format: CatalogFormat;
  dry_run: boolean;
  /** A snapshot was written (false: dry run, errors without skip_invalid, or nothing changed). */
  applied: boolean;
  read: number;
  valid: number;
  refused: number;
  errors: number;
  warnings: number;
  issues: CatalogIssue[];
  /** The new snapshot, or the latest one when the content did not change. */
  snapshot: SnapshotSummary | null;
  diff: Omit<SnapshotDiff, 'from' | 'to'> & { from: SnapshotDiff['from'] };
}

type Stored = Map<string, { hash: string; product: CatalogProduct }>;

/**
 * Catalog import and snapshots: a file is read by its adapter and checked; when it passes (or
 * skip_invalid), a new versioned snapshot holds every product with its content hash. A file
 * with only categories keeps the previous products; one with only products keeps the previous
 * categories. Importing the same content twice creates no new snapshot.
 */
export class CatalogService {
  constructor(
    private readonly deps: {
      db: Database;
      clock: Clock;
      /** Called inside the transaction that stores a new snapshot (the mirror's rebuild job is enqueued there). */
      onSnapshot?: (trx: Executor, snapshotId: string) => Promise<void>;
    },
  ) {}

  parse(text: string, options: CatalogImportOptions): ParsedCatalog {
    try {
      return parseCatalog(text, options);
    } catch (err) {
      if (err instanceof CatalogFormatError) throw new AppError(422, 'validation_failed', `body: ${err.message}`);
      throw err;
    }
  }

  async import(text: string, options: CatalogImportOptions): Promise<CatalogImportReport> {
    const parsed = this.parse(text, options);
    const errors = parsed.issues.filter((i) => i.level === 'error').length;
    const base = {
      file: options.file,
      format: parsed.format,
      dry_run: options.dryRun === true,
      read: parsed.read,
      valid: parsed.products.length,
      refused: parsed.refused,
      errors,
      warnings: parsed.issues.length - errors,
      issues: parsed.issues,
    };
    const { db, clock } = this.deps;
    return db.tx(async (trx) => {
      const latest = await this.latestRow(trx);
      const before: Stored = latest ? await this.products(trx, latest.id) : new Map();
      const onlyCategories = parsed.read === 0 && parsed.categories !== null;
      const after: Stored = new Map();
      if (onlyCategories) for (const [k, v] of before) after.set(k, v);
      else for (const p of parsed.products) after.set(p.sku, { hash: contentHash(p), product: p });
      const categories = this.categoriesFor(
        parsed.categories ?? (latest ? fromDbJson<CatalogCategory[]>(latest.categories, []) : []),
        [...after.values()].map((v) => v.product),
      );
      const hash = contentHash({ products: [...after.values()].map((v) => v.hash), categories });
      const diff = {
        from: latest ? { id: latest.id, version: Number(latest.version) } : null,
        ...diffProducts(before, after),
      };
      const blocked = errors > 0 && options.skipInvalid !== true;
      if (options.dryRun || blocked || (latest && latest.content_hash === hash))
        return { ...base, applied: false, snapshot: latest && !blocked ? summary(latest) : null, diff };
      const now = clock.now();
      const row = {
        id: newId(now),
        version: latest ? Number(latest.version) + 1 : 1,
        created_at: now,
        source: options.file,
        format: parsed.format,
        actor: options.actor ?? null,
        product_count: after.size,
        content_hash: hash,
        categories: toDbJson(categories),
        issues: toDbJson(parsed.issues),
      };
      await trx.insertInto('catalog_snapshots').values(row).execute();
      const values = [...after.entries()].map(([sku, v], position) => ({
        snapshot_id: row.id,
        sku,
        position,
        hash: v.hash,
        data: toDbJson(v.product),
      }));
      for (let i = 0; i < values.length; i += 200)
        await trx
          .insertInto('catalog_products')
          .values(values.slice(i, i + 200))
          .execute();
      await this.deps.onSnapshot?.(trx, row.id);
      return { ...base, applied: true, snapshot: summary(row), diff };
    });
  }

  async list(limit = 50): Promise<SnapshotSummary[]> {
    const rows = await this.deps.db.kysely
      .selectFrom('catalog_snapshots')
      .selectAll()
      .orderBy('version', 'desc')
      .limit(limit)
      .execute();
    return rows.map(summary);
  }

  /** A snapshot against the one before it (or against `against`, another snapshot's id). */
  async diff(id: string, against?: string): Promise<SnapshotDiff> {
    const db = this.deps.db.kysely;
    const snap = await db.selectFrom('catalog_snapshots').selectAll().where('id', '=', id).executeTakeFirst();
    if (!snap) throw notFound('snapshot', id);
    const base = against
      ? await db.selectFrom('catalog_snapshots').selectAll().where('id', '=', against).executeTakeFirst()
      : await db
          .selectFrom('catalog_snapshots')
          .selectAll()
          .where('version', '<', snap.version)
          .orderBy('version', 'desc')
          .limit(1)
          .executeTakeFirst();
    if (against && !base) throw notFound('snapshot', against);
    const before = base ? await this.products(db, base.id) : new Map();
    return {
      from: base ? { id: base.id, version: Number(base.version) } : null,
      to: { id: snap.id, version: Number(snap.version) },
      ...diffProducts(before, await this.products(db, snap.id)),
    };
  }

  /** The snapshot as a file document (the latest when no id), with each product's content hash by SKU. */
  async snapshotWithHashes(id?: string): Promise<{ snapshot: CatalogSnapshotFile; hashes: Map<string, string> }> {
    const snapshot = await this.snapshotFile(id);
    const rows = await this.deps.db.kysely
      .selectFrom('catalog_products')
      .select(['sku', 'hash'])
      .where('snapshot_id', '=', snapshot.id)
      .execute();
    return { snapshot, hashes: new Map(rows.map((r) => [r.sku, r.hash])) };
  }

  /** The snapshot as a file document (the latest when no id). */
  async snapshotFile(id?: string): Promise<CatalogSnapshotFile> {
    const db = this.deps.db.kysely;
    const snap = id
      ? await db.selectFrom('catalog_snapshots').selectAll().where('id', '=', id).executeTakeFirst()
      : await this.latestRow(db);
    if (!snap) throw notFound('snapshot', id ?? 'latest (import a catalog first)');
    return {
      version: 1,
      id: snap.id,
      created_at: new Date(Number(snap.created_at)).toISOString(),
      source: `${snap.source} (${snap.format})`,
      categories: fromDbJson<CatalogCategory[]>(snap.categories, []),
      products: [...(await this.products(db, snap.id)).values()].map((v) => v.product),
    };
  }

  /** The latest snapshot's id (null before the first import): a cheap freshness check. */
  async latestId(): Promise<string | null> {
    const row = await this.deps.db.kysely
      .selectFrom('catalog_snapshots')
      .select('id')
      .orderBy('version', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row?.id ?? null;
  }

  private async latestRow(db: Executor) {
    return db.selectFrom('catalog_snapshots').selectAll().orderBy('version', 'desc').limit(1).executeTakeFirst();
  }

  private async products(db: Executor, snapshotId: string): Promise<Stored> {
    const rows = await db
      .selectFrom('catalog_products')
      .select(['sku', 'hash', 'data'])
      .where('snapshot_id', '=', snapshotId)
      .orderBy('position')
      .execute();
    return new Map(rows.map((r) => [r.sku, { hash: r.hash, product: fromDbJson<CatalogProduct>(r.data, {} as CatalogProduct) }]));
  }

  /** The category list, plus any code a product names that the list lacks (labelled by its code). */
  private categoriesFor(list: CatalogCategory[], products: CatalogProduct[]): CatalogCategory[] {
    const out = [...list];
    const known = new Set(list.map((c) => c.code));
    for (const p of products)
      for (const code of p.categories)
        if (!known.has(code)) {
          known.add(code);
          out.push({ code, parent: null, label: code });
        }
    return out;
  }
}

function summary(row: {
  id: string;
  version: number;
  created_at: number;
  source: string;
  format: string;
  product_count: number;
  content_hash: string;
}): SnapshotSummary {
  return {
    id: row.id,
    version: Number(row.version),
    created_at: new Date(Number(row.created_at)).toISOString(),
    source: row.source,
    format: row.format,
    product_count: Number(row.product_count),
    content_hash: row.content_hash,
  };
}

/** Write a snapshot file (JSON) for the standalone catalog API and the mirror build. */
export async function writeSnapshotFile(snapshot: CatalogSnapshotFile, path: string): Promise<void> {
  await writeFile(path, `${JSON.stringify(snapshot, null, 2)}\n`);
}
