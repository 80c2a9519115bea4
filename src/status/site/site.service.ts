import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { Logger } from 'pino';
import type { Config } from '../../config/config.js';
import type { Clock } from '../../core/clock.js';
import { DAY } from '../../core/clock.js';
import type { Database, Executor } from '../../db/database.js';
import { buildStatuspageDocuments, RECENT_INCIDENTS, type StatuspageDocuments } from '../../incidents/statuspage.js';
import { loadPublicData, readPublicRevision } from '../../incidents/statuspage.repo.js';
import type { StatusFeed } from '../../incidents/statuspage.service.js';
import type { BannerOptions } from '../banner.js';
import { bannerOptionsFromConfig } from './banner-json.js';
import { type HistoryData, loadHistory } from './history.repo.js';
import { UPTIME_DAYS } from './model.js';
import { renderSite, type SiteFile, type SiteInput } from './site.js';

export interface SiteOptions {
  pageName: string;
  publicUrl: string;
  includeDrills: boolean;
  banner: BannerOptions;
}

export function siteOptionsFromConfig(config: Config): SiteOptions {
  return {
    pageName: config.status.pageName,
    publicUrl: config.publicUrl,
    includeDrills: config.status.includeDrills,
    banner: bannerOptionsFromConfig(config),
  };
}

async function readHistory(ex: Executor, options: SiteOptions, now: number): Promise<HistoryData> {
  return loadHistory(ex, { now, windowMs: UPTIME_DAYS * DAY, includeDrills: options.includeDrills });
}

/**
 * A consistent snapshot for publishing: the revision is read first, so the files are at least as
 * new as the revision recorded for them (a later change has a later revision and publishes again).
 */
export async function loadSiteSnapshot(
  ex: Executor,
  options: SiteOptions,
  now: number,
  nextUpdates?: NextUpdates,
): Promise<{ revision: string; files: SiteFile[] }> {
  const revision = await readPublicRevision(ex);
  const data = await loadPublicData(ex, { includeDrills: options.includeDrills, recent: RECENT_INCIDENTS, now });
  const documents = buildStatuspageDocuments(data, { name: options.pageName, url: options.publicUrl });
  const history = await readHistory(ex, options, now);
  const banner = { ...options.banner, nextUpdateAt: await promised(nextUpdates) };
  const files = renderSite({ ...siteInputBase(options), banner, documents, history, now, mode: 'static' });
  return { revision, files };
}

/** When the next public update is promised, per open incident id (the cadence's nextUpdates()). */
export type NextUpdates = () => Promise<ReadonlyMap<string, string>>;

async function promised(nextUpdates: NextUpdates | undefined): Promise<ReadonlyMap<string, string>> {
  if (!nextUpdates) return new Map();
  try {
    return await nextUpdates();
  } catch {
    return new Map(); // the banner without a promised time beats no banner
  }
}

function siteInputBase(options: SiteOptions): Pick<SiteInput, 'pageName' | 'publicUrl' | 'banner'> {
  return { pageName: options.pageName, publicUrl: options.publicUrl, banner: options.banner };
}

/** A site file ready to serve: bytes, gzip copy, ETag and headers, built once per rendering. */
export interface ServedFile {
  file: SiteFile;
  /** The file's bytes (same as file.body). */
  body: Buffer;
  etag: string;
  gzip: Buffer;
  headers: Record<string, string>;
  gzipHeaders: Record<string, string>;
  notModifiedHeaders: Record<string, string>;
}

interface LiveRendering {
  documents: StatuspageDocuments;
  /** The feed's rendering of summary.json this was built from (identity: still current?). */
  source: unknown;
  day: number;
  files: Map<string, ServedFile>;
}

/**
 * The status site served live by Keepwarm. It rides on the StatusFeed's cache: a new rendering of
 * the Statuspage documents (a public change, here or in another process) or a new UTC day (the
 * uptime bars move) re-renders the site once; every request in between is a map lookup.
 */
export class StatusSite {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #feed: StatusFeed;
  readonly #options: SiteOptions;
  readonly #nextUpdates: NextUpdates | undefined;
  #current: LiveRendering | null = null;
  #rendering: Promise<LiveRendering> | null = null;

  constructor(deps: {
    db: Database;
    clock: Clock;
    log: Logger;
    feed: StatusFeed;
    options: SiteOptions;
    nextUpdates?: NextUpdates;
  }) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#log = deps.log;
    this.#feed = deps.feed;
    this.#options = deps.options;
    this.#nextUpdates = deps.nextUpdates;
  }

  get options(): SiteOptions {
    return this.#options;
  }

  /** A file of the live site by its path ("index.html", "feed.atom", "status.css", "banner.json"). */
  async get(path: string): Promise<ServedFile | undefined> {
    return (await this.#fresh()).files.get(path);
  }

  /** The file when the last rendering is still current, without waiting (the surge path); else undefined. */
  peek(path: string): ServedFile | undefined {
    const current = this.#current;
    if (!current || current.day !== Math.floor(this.#clock.now() / DAY)) return undefined;
    const source = this.#feed.peek('summary.json');
    if (source === undefined || source !== current.source) return undefined;
    return current.files.get(path);
  }

  async #fresh(): Promise<LiveRendering> {
    const documents = await this.#feed.documents();
    const day = Math.floor(this.#clock.now() / DAY);
    const current = this.#current;
    if (current && current.documents === documents && current.day === day) return current;
    if (this.#rendering) return this.#rendering;
    this.#rendering = this.#render(documents, day)
      .then((r) => {
        this.#current = r;
        return r;
      })
      .catch((err: unknown) => {
        if (this.#current) {
          this.#log.error({ err }, 'status site could not be re-rendered; serving the last rendering');
          return this.#current;
        }
        throw err;
      })
      .finally(() => {
        this.#rendering = null;
      });
    return this.#rendering;
  }

  async #render(documents: StatuspageDocuments, day: number): Promise<LiveRendering> {
    const now = this.#clock.now();
    const history = await readHistory(this.#db.kysely, this.#options, now);
    const banner = { ...this.#options.banner, nextUpdateAt: await promised(this.#nextUpdates) };
    const files = renderSite({ ...siteInputBase(this.#options), banner, documents, history, now, mode: 'live' });
    const source = this.#feed.peek('summary.json');
    return { documents, source, day, files: new Map(files.map((f) => [f.path, toServed(f)])) };
  }
}

export function toServed(file: SiteFile): ServedFile {
  const etag = `"${createHash('sha1').update(file.body).digest('base64url')}"`;
  const gzip = gzipSync(file.body, { level: 6 });
  const common = { 'cache-control': file.cacheControl, etag, 'access-control-allow-origin': '*', vary: 'Accept-Encoding' };
  return {
    file,
    body: file.body,
    etag,
    gzip,
    headers: { ...common, ...file.headers, 'content-type': file.contentType, 'content-length': String(file.body.length) },
    gzipHeaders: {
      ...common,
      ...file.headers,
      'content-type': file.contentType,
      'content-encoding': 'gzip',
      'content-length': String(gzip.length),
    },
    notModifiedHeaders: common,
  };
}
