import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { Logger } from 'pino';
import type { Bus } from '../core/bus.js';
import type { Clock } from '../core/clock.js';
import type { Database } from '../db/database.js';
import {
  buildStatuspageDocuments,
  RECENT_INCIDENTS,
  STATUSPAGE_DOCUMENTS,
  type StatuspageDocumentName,
  type StatuspageDocuments,
} from './statuspage.js';
import { loadPublicData, readPublicRevision } from './statuspage.repo.js';

export interface RenderedDocument {
  body: Buffer;
  gzip: Buffer;
  etag: string;
  /** Response headers, built once per rendering (the hot path only copies a reference). */
  headers: Record<string, string>;
  gzipHeaders: Record<string, string>;
  notModifiedHeaders: Record<string, string>;
}

/** Short freshness for clients and CDNs, then stale copies are better than nothing during an outage. */
export const STATUS_CACHE_CONTROL = 'public, max-age=10, stale-while-revalidate=30, stale-if-error=86400';

/** A JSON document's bytes, gzip copy, ETag and public headers, built once (also used for banner.json). */
export function renderJsonDocument(value: unknown): RenderedDocument {
  const body = Buffer.from(JSON.stringify(value));
  const etag = `"${createHash('sha1').update(body).digest('base64url')}"`;
  const gzip = gzipSync(body, { level: 6 });
  const common = {
    'cache-control': STATUS_CACHE_CONTROL,
    etag,
    'access-control-allow-origin': '*',
    vary: 'Accept-Encoding',
  };
  return {
    body,
    gzip,
    etag,
    headers: { ...common, 'content-type': 'application/json; charset=utf-8', 'content-length': String(body.length) },
    gzipHeaders: {
      ...common,
      'content-type': 'application/json; charset=utf-8',
      'content-encoding': 'gzip',
      'content-length': String(gzip.length),
    },
    notModifiedHeaders: common,
  };
}

interface Rendered {
  revision: string;
  documents: StatuspageDocuments;
  bytes: Map<StatuspageDocumentName, RenderedDocument>;
}

export interface StatusFeedOptions {
  pageName: string;
  publicUrl: string;
  includeDrills: boolean;
  /** How often a process checks whether another process changed the data (ms). */
  revalidateMs?: number;
}

/**
 * The Statuspage documents, rendered once per change and served from memory. Changes made in
 * this process are visible on the next request; changes from other processes within
 * `revalidateMs`. If the database is unreachable the last rendering keeps being served.
 */
export class StatusFeed {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #options: StatusFeedOptions;
  #current: Rendered | null = null;
  #dirty = true;
  #checkedAt = 0;
  #refreshing: Promise<Rendered> | null = null;
  #revalidating: Promise<void> | null = null;

  constructor(deps: { db: Database; clock: Clock; bus: Bus; log: Logger; options: StatusFeedOptions }) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#log = deps.log;
    this.#options = deps.options;
    deps.bus.on('public.changed', () => {
      this.#dirty = true;
    });
  }

  /** The rendered document if it is fresh enough to serve without waiting, else undefined. */
  peek(name: StatuspageDocumentName): RenderedDocument | undefined {
    const current = this.#current;
    if (!current || this.#dirty) return undefined;
    if (this.#clock.now() - this.#checkedAt >= (this.#options.revalidateMs ?? 1000)) this.#revalidate();
    return current.bytes.get(name);
  }

  async get(name: StatuspageDocumentName): Promise<RenderedDocument> {
    return (this.peek(name) ?? (await this.#refreshOrStale()).bytes.get(name)) as RenderedDocument;
  }

  async documents(): Promise<StatuspageDocuments> {
    if (this.#current && !this.#dirty) return this.#current.documents;
    return (await this.#refreshOrStale()).documents;
  }

  async #refreshOrStale(): Promise<Rendered> {
    try {
      return await this.#refresh();
    } catch (err) {
      if (this.#current) {
        this.#log.error({ err }, 'status documents could not be refreshed; serving the last rendering');
        return this.#current;
      }
      throw err;
    }
  }

  #refresh(): Promise<Rendered> {
    if (this.#refreshing) return this.#refreshing;
    this.#dirty = false;
    const startedAt = this.#clock.now();
    this.#refreshing = this.#render()
      .then((rendered) => {
        this.#current = rendered;
        this.#checkedAt = startedAt;
        return rendered;
      })
      .catch((err: unknown) => {
        this.#dirty = true;
        throw err;
      })
      .finally(() => {
        this.#refreshing = null;
      });
    return this.#refreshing;
  }

  /** Resolves when a background revision check (if any) has finished. */
  async settled(): Promise<void> {
    await this.#revalidating;
  }

  #revalidate(): void {
    if (this.#revalidating || this.#refreshing) return;
    const startedAt = this.#clock.now();
    this.#revalidating = readPublicRevision(this.#db.kysely)
      .then((revision) => {
        if (revision === this.#current?.revision) this.#checkedAt = startedAt;
        else this.#dirty = true;
      })
      .catch((err: unknown) => this.#log.warn({ err }, 'status revision check failed; serving the last rendering'))
      .finally(() => {
        this.#revalidating = null;
      });
  }

  async #render(): Promise<Rendered> {
    const data = await loadPublicData(this.#db.kysely, {
      includeDrills: this.#options.includeDrills,
      recent: RECENT_INCIDENTS,
      now: this.#clock.now(),
    });
    const documents = buildStatuspageDocuments(data, { name: this.#options.pageName, url: this.#options.publicUrl });
    const bytes = new Map<StatuspageDocumentName, RenderedDocument>();
    for (const name of STATUSPAGE_DOCUMENTS) bytes.set(name, renderJsonDocument(documents[name]));
    return { revision: data.revision, documents, bytes };
  }
}
