/**
 * Keeps the fallback mirror ready before any outage: builds it from the latest catalog snapshot
 * (incrementally), publishes it to every target with flags.json beside it, and records each build
 * and publish for the console. A new snapshot enqueues a rebuild in the transaction that stores
 * it; every public change (an incident opens or closes) republishes flags.json.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { CatalogService } from '../../catalog/snapshots.service.js';
import type { Config } from '../../config/config.js';
import type { Clock } from '../../core/clock.js';
import { conflict, errorMessage, TransientError } from '../../core/errors.js';
import { newId, newSecret } from '../../core/ids.js';
import { fromDbBool, fromDbJson, toDbBool, toDbJson } from '../../db/codec.js';
import type { Database, Executor } from '../../db/database.js';
import type { JobQueue } from '../../db/jobs/job-queue.js';
import { defineJob, type JobHandler } from '../../db/jobs/worker.js';
import { acquireLease, releaseLease } from '../../status/publish/publications.repo.js';
import type { FlagService } from '../flags/flags.service.js';
import { type BuildReport, MirrorBuilder } from './builder.js';
import { FLAGS_PUBLISH_JOB, MIRROR_BUILD_JOB } from './jobs.js';
import { type MirrorSettings, planMirror } from './plan.js';
import type { ExtraFile, MirrorTarget, TargetReport } from './targets.js';

/** The lease (in the publications table) that lets one process build at a time. */
const LEASE = 'fallback-mirror';
const LEASE_MS = 10 * 60_000;

export function mirrorSettingsFromConfig(config: Config): MirrorSettings {
  const publicUrl = (config.publicUrl ?? `http://${config.host}:${config.port}`).replace(/\/$/, '');
  return {
    title: config.fallback.title ?? `${config.status.pageName.replace(/\s*status$/i, '') || 'Showroom'}: backup catalog`,
    siteUrl: config.fallback.mirrorUrl ?? config.status.fallbackUrl ?? null,
    orderEndpoint: `${publicUrl}/fallback/v1/orders`,
    chatEndpoint: `${publicUrl}/api/v1/chat/messages`,
    statusUrl: `${publicUrl}/status`,
    bannerUrls: [`${publicUrl}/status/banner.json`],
    contact: {
      email: config.fallback.contactEmail ?? config.fallback.salesEmail ?? null,
      phone: config.fallback.contactPhone ?? null,
    },
    pdfs: config.fallback.pdfs,
  };
}

export interface BuildView {
  id: string;
  snapshot_id: string | null;
  trigger: string;
  started_at: string;
  finished_at: string | null;
  full: boolean;
  files: number | null;
  rendered: number | null;
  reused: number | null;
  removed: number | null;
  bytes: number | null;
  duration_ms: number | null;
  warnings: string[];
  error: string | null;
  publications: Array<{
    target: string;
    type: string;
    started_at: string;
    written: number | null;
    reused: number | null;
    deleted: number | null;
    verified: number | null;
    bytes: number | null;
    version: string | null;
    duration_ms: number | null;
    error: string | null;
  }>;
}

export interface RebuildResult {
  build: BuildReport;
  publications: Array<TargetReport | { target: string; type: string; error: string }>;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(Number(ms)).toISOString());

export class MirrorService {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #jobs: JobQueue;
  readonly #catalog: CatalogService;
  readonly #flags: FlagService;
  readonly #settings: MirrorSettings;
  readonly #targets: MirrorTarget[];
  readonly #autoPublish: boolean;
  readonly builder: MirrorBuilder;

  constructor(deps: {
    db: Database;
    clock: Clock;
    log: Logger;
    jobs: JobQueue;
    catalog: CatalogService;
    flags: FlagService;
    settings: MirrorSettings;
    targets: MirrorTarget[];
    workDir: string;
    autoPublish: boolean;
  }) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#log = deps.log;
    this.#jobs = deps.jobs;
    this.#catalog = deps.catalog;
    this.#flags = deps.flags;
    this.#settings = deps.settings;
    this.#targets = deps.targets;
    this.#autoPublish = deps.autoPublish;
    this.builder = new MirrorBuilder(deps.workDir);
  }

  get targets(): readonly MirrorTarget[] {
    return this.#targets;
  }

  get settings(): MirrorSettings {
    return this.#settings;
  }

  /** In the transaction that stores a snapshot: the rebuild happens exactly when it commits. */
  async onSnapshot(trx: Executor, snapshotId: string): Promise<void> {
    if (!this.#autoPublish) return;
    await this.#jobs.enqueue(trx, {
      kind: MIRROR_BUILD_JOB,
      payload: { trigger: 'catalog', full: false },
      key: `${MIRROR_BUILD_JOB}@${snapshotId}`,
    });
  }

  /** Ask the worker for a rebuild and publish now (console, API). */
  async requestRebuild(full: boolean): Promise<void> {
    await this.#db.tx((trx) =>
      this.#jobs.enqueue(trx, {
        kind: MIRROR_BUILD_JOB,
        payload: { trigger: 'manual', full },
        key: `${MIRROR_BUILD_JOB}:manual:${newSecret(6)}`,
      }),
    );
  }

  async #flagsFile(): Promise<ExtraFile> {
    return {
      path: 'flags.json',
      body: Buffer.from(await this.#flags.renderFlagsJson()),
      type: 'application/json; charset=utf-8',
    };
  }

  /**
   * Build from the latest snapshot and publish to every target. One at a time (a lease):
   * a second caller gets a conflict (the job reschedules itself).
   */
  async rebuild(options: { trigger: string; full?: boolean; publish?: boolean }): Promise<RebuildResult> {
    return this.#exclusive(() => this.#rebuild(options));
  }

  /** One build or publish at a time, across processes (a lease in the publications table). */
  async #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const owner = newSecret(12);
    const db = this.#db.kysely;
    const now = this.#clock.now();
    if (!(await acquireLease(db, LEASE, owner, now, now + LEASE_MS)))
      throw conflict('mirror_busy', 'A mirror build is already running; try again when it has finished.');
    try {
      return await fn();
    } finally {
      await releaseLease(db, LEASE, owner);
    }
  }

  async #rebuild(options: { trigger: string; full?: boolean; publish?: boolean }): Promise<RebuildResult> {
    const db = this.#db.kysely;
    const { snapshot, hashes } = await this.#catalog.snapshotWithHashes();
    const id = newId(this.#clock.now());
    await db
      .insertInto('mirror_builds')
      .values({
        id,
        snapshot_id: snapshot.id,
        trigger: options.trigger,
        started_at: this.#clock.now(),
        full: toDbBool(options.full ?? false),
      })
      .execute();
    let build: BuildReport;
    try {
      const plan = planMirror(snapshot, this.#settings, { hashes });
      build = (
        await this.builder.build(
          plan,
          { build: id, snapshotId: snapshot.id, now: new Date(this.#clock.now()) },
          { full: options.full ?? false },
        )
      ).report;
    } catch (err) {
      await db
        .updateTable('mirror_builds')
        .set({ finished_at: this.#clock.now(), error: errorMessage(err).slice(0, 2000) })
        .where('id', '=', id)
        .execute();
      throw err;
    }
    await db
      .updateTable('mirror_builds')
      .set({
        finished_at: this.#clock.now(),
        full: toDbBool(build.full),
        files: build.files,
        rendered: build.rendered,
        reused: build.reused,
        removed: build.removed,
        bytes: build.bytes,
        duration_ms: build.durationMs,
        warnings: toDbJson(build.warnings),
      })
      .where('id', '=', id)
      .execute();
    this.#log.info({ build: id, rendered: build.rendered, reused: build.reused, ms: build.durationMs }, 'fallback mirror built');
    const publications = options.publish === false ? [] : await this.#publishAll(id);
    return { build, publications };
  }

  /** Publish the last build (as it is in the work folder) to every target, or to the one named. */
  async publish(targetName?: string): Promise<RebuildResult['publications']> {
    const manifest = await this.builder.manifest();
    if (!manifest) throw conflict('mirror_not_built', 'The mirror has not been built yet: run `keepwarm fallback build` first.');
    return this.#exclusive(() => this.#publishAll(manifest.build, targetName));
  }

  async #publishAll(buildId: string, only?: string): Promise<RebuildResult['publications']> {
    const manifest = await this.builder.manifest();
    if (!manifest) return [];
    const targets = only ? this.#targets.filter((t) => t.name === only) : this.#targets;
    if (only && targets.length === 0)
      throw conflict('unknown_target', `No mirror target is named ${JSON.stringify(only)} (fallback.targets).`);
    const extras = [await this.#flagsFile()];
    const out: RebuildResult['publications'] = [];
    for (const target of targets) {
      const id = newId(this.#clock.now());
      await this.#db.kysely
        .insertInto('mirror_publications')
        .values({ id, build_id: buildId, target: target.name, type: target.type, started_at: this.#clock.now() })
        .execute();
      try {
        const report = await target.publish({ siteDir: this.builder.siteDir, manifest, extras });
        await this.#db.kysely
          .updateTable('mirror_publications')
          .set({
            finished_at: this.#clock.now(),
            written: report.written,
            reused: report.reused,
            deleted: report.deleted,
            verified: report.verified,
            bytes: report.bytes,
            version: report.version,
            duration_ms: report.durationMs,
          })
          .where('id', '=', id)
          .execute();
        out.push(report);
      } catch (err) {
        const message = errorMessage(err);
        await this.#db.kysely
          .updateTable('mirror_publications')
          .set({ finished_at: this.#clock.now(), error: message.slice(0, 2000) })
          .where('id', '=', id)
          .execute();
        this.#log.warn({ err, target: target.name }, 'publishing the fallback mirror failed');
        out.push({ target: target.name, type: target.type, error: message });
      }
    }
    return out;
  }

  async publishFlags(): Promise<void> {
    const file = await this.#flagsFile();
    const failures: string[] = [];
    for (const target of this.#targets) {
      try {
        await target.replaceFile(file);
      } catch (err) {
        failures.push(`${target.name}: ${errorMessage(err)}`);
      }
    }
    if (failures.length > 0) throw new TransientError(`flags.json not published to ${failures.join('; ')}`);
  }

  async history(limit = 20): Promise<BuildView[]> {
    const db = this.#db.kysely;
    const builds = await db
      .selectFrom('mirror_builds')
      .selectAll()
      .orderBy('started_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    if (builds.length === 0) return [];
    const pubs = await db
      .selectFrom('mirror_publications')
      .selectAll()
      .where(
        'build_id',
        'in',
        builds.map((b) => b.id),
      )
      .orderBy('started_at')
      .execute();
    return builds.map((b) => ({
      id: b.id,
      snapshot_id: b.snapshot_id,
      trigger: b.trigger,
      started_at: iso(b.started_at) as string,
      finished_at: iso(b.finished_at),
      full: fromDbBool(b.full),
      files: b.files,
      rendered: b.rendered,
      reused: b.reused,
      removed: b.removed,
      bytes: b.bytes === null ? null : Number(b.bytes),
      duration_ms: b.duration_ms,
      warnings: fromDbJson<string[]>(b.warnings, []),
      error: b.error,
      publications: pubs
        .filter((p) => p.build_id === b.id)
        .map((p) => ({
          target: p.target,
          type: p.type,
          started_at: iso(p.started_at) as string,
          written: p.written,
          reused: p.reused,
          deleted: p.deleted,
          verified: p.verified,
          bytes: p.bytes === null ? null : Number(p.bytes),
          version: p.version,
          duration_ms: p.duration_ms,
          error: p.error,
        })),
    }));
  }

  jobHandlers(): JobHandler[] {
    return [
      defineJob({
        kind: MIRROR_BUILD_JOB,
        payload: z.object({ trigger: z.string().min(1), full: z.boolean().default(false) }),
        backoff: { baseMs: 5_000, maxMs: 300_000 },
        run: async (payload) => {
          if ((await this.#catalog.latestId()) === null) return undefined;
          try {
            const result = await this.rebuild({ trigger: payload.trigger, full: payload.full });
            const failed = result.publications.filter((p) => 'error' in p);
            if (failed.length > 0)
              throw new TransientError(`mirror published with failures: ${failed.map((f) => f.target).join(', ')}`);
          } catch (err) {
            if ((err as { code?: string }).code === 'mirror_busy') return { rescheduleAt: this.#clock.now() + 5_000 };
            throw err;
          }
          return undefined;
        },
      }),
      defineJob({
        kind: FLAGS_PUBLISH_JOB,
        payload: z.object({ revision: z.string().min(1) }),
        backoff: { baseMs: 1_000, maxMs: 60_000 },
        run: async () => {
          await this.publishFlags();
          return undefined;
        },
      }),
    ];
  }

  close(): void {
    for (const t of this.#targets) t.close?.();
  }
}

/** The mirror's work folder under the data folder. */
export function mirrorWorkDir(config: Config): string {
  return join(config.dataDir, 'mirror');
}
