import type { Logger } from 'pino';
import { z } from 'zod';
import type { Config } from '../../config/config.js';
import type { Clock } from '../../core/clock.js';
import { errorMessage, TransientError } from '../../core/errors.js';
import { newSecret } from '../../core/ids.js';
import type { Database } from '../../db/database.js';
import type { JobQueue } from '../../db/jobs/job-queue.js';
import { defineJob, type JobHandler } from '../../db/jobs/worker.js';
import { readPublicRevision } from '../../incidents/statuspage.repo.js';
import { loadSiteSnapshot, type NextUpdates, type SiteOptions } from '../site/site.service.js';
import { FolderTarget } from './folder-target.js';
import {
  acquireLease,
  findPublication,
  listPublications,
  type Publication,
  recordFailure,
  recordPublished,
  releaseLease,
} from './publications.repo.js';
import { S3Target } from './s3-target.js';
import type { PublishTarget } from './target.js';
import { PUBLISH_JOB, PUBLISH_TARGET_JOB } from './trigger.js';

export function createTargets(targets: Config['status']['targets']): PublishTarget[] {
  return targets.map((t) => (t.type === 'folder' ? new FolderTarget(t) : new S3Target(t)));
}

/** A target as the API shows it: configuration plus what it last received. */
export interface PublicationView {
  target: string;
  type: 'folder' | 's3';
  /** The public revision the target shows, and whether that is the current one. */
  revision: string | null;
  current: boolean;
  published_at: string | null;
  duration_ms: number | null;
  files: number | null;
  /** The last attempt's error (null once a publish succeeded). */
  error: string | null;
  attempted_at: string | null;
  publishing: boolean;
}

/** Retry a failing target soon at first: a status page that lags is worth a few quick tries. */
const BACKOFF = { baseMs: 1000, maxMs: 60_000 };

/**
 * Publishes the status site to the static targets on every public change. One job per target,
 * so a failing target retries on its own backoff and never holds the others back. A lease per
 * target (in `publications`) lets one worker publish it at a time, and the recorded revision
 * only moves forward: an older rendering never overwrites a newer one.
 */
export class StatusPublisher {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #jobs: JobQueue;
  readonly #targets: Map<string, PublishTarget>;
  readonly #options: SiteOptions;
  readonly #leaseMs: number;
  readonly #nextUpdates: NextUpdates | undefined;

  constructor(deps: {
    db: Database;
    clock: Clock;
    log: Logger;
    jobs: JobQueue;
    targets: PublishTarget[];
    options: SiteOptions;
    leaseMs?: number;
    nextUpdates?: NextUpdates;
  }) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#log = deps.log;
    this.#jobs = deps.jobs;
    this.#targets = new Map(deps.targets.map((t) => [t.name, t]));
    this.#options = deps.options;
    this.#leaseMs = deps.leaseMs ?? 60_000;
    this.#nextUpdates = deps.nextUpdates;
  }

  get targets(): PublishTarget[] {
    return [...this.#targets.values()];
  }

  /** Ask for a publish of the current revision to every target (startup, a new target, by hand). */
  async requestPublish(): Promise<void> {
    const revision = await readPublicRevision(this.#db.kysely);
    await this.#db.tx((trx) =>
      this.#jobs.enqueue(trx, { kind: PUBLISH_JOB, payload: { revision }, key: `${PUBLISH_JOB}@${revision}:${newSecret(6)}` }),
    );
  }

  async publications(): Promise<PublicationView[]> {
    const [rows, revision] = await Promise.all([listPublications(this.#db.kysely), readPublicRevision(this.#db.kysely)]);
    const byTarget = new Map(rows.map((r) => [r.target, r]));
    const now = this.#clock.now();
    return this.targets.map((t) => view(t, byTarget.get(t.name), revision, now));
  }

  jobHandlers(): JobHandler[] {
    return [
      defineJob({
        kind: PUBLISH_JOB,
        payload: z.object({ revision: z.string().min(1) }),
        run: async (payload, ctx) => {
          if (this.#targets.size === 0) return undefined;
          await ctx.transaction(async (trx) => {
            for (const name of this.#targets.keys()) {
              await this.#jobs.enqueue(trx, {
                kind: PUBLISH_TARGET_JOB,
                payload: { target: name, revision: payload.revision },
                key: `${PUBLISH_TARGET_JOB}:${name}@${ctx.job.idempotencyKey}`,
              });
            }
          });
          return undefined;
        },
      }),
      defineJob({
        kind: PUBLISH_TARGET_JOB,
        payload: z.object({ target: z.string().min(1), revision: z.string().min(1) }),
        backoff: BACKOFF,
        run: (payload, ctx) => this.#publishTarget(payload.target, payload.revision, ctx.log),
      }),
    ];
  }

  async #publishTarget(name: string, revision: string, log: Logger): Promise<{ rescheduleAt: number } | undefined> {
    const target = this.#targets.get(name);
    if (!target) {
      log.warn({ target: name }, 'status target no longer configured; nothing to publish');
      return undefined;
    }
    const db = this.#db.kysely;
    const before = await findPublication(db, name);
    if (before?.revision && before.revision >= revision) return undefined; // a newer publish covered it
    const owner = newSecret(12);
    const startedAt = this.#clock.now();
    if (!(await acquireLease(db, name, owner, startedAt, startedAt + this.#leaseMs))) {
      // Another worker is publishing this target: look again once it is likely done.
      return { rescheduleAt: startedAt + 250 };
    }
    let snapshot: Awaited<ReturnType<typeof loadSiteSnapshot>>;
    try {
      snapshot = await loadSiteSnapshot(db, this.#options, startedAt, this.#nextUpdates);
    } catch (err) {
      await releaseLease(db, name, owner);
      throw err;
    }
    const latest = await findPublication(db, name);
    if (latest?.revision && latest.revision >= snapshot.revision) {
      await releaseLease(db, name, owner);
      return undefined;
    }
    const t0 = performance.now();
    try {
      await target.publish(snapshot.files, snapshot.revision);
    } catch (err) {
      const message = errorMessage(err);
      await recordFailure(db, name, owner, message, this.#clock.now());
      log.warn({ err, target: name }, 'publishing the status site failed; retrying with backoff');
      throw new TransientError(`publishing to ${name} failed: ${message}`, { cause: err });
    }
    const durationMs = Math.round(performance.now() - t0);
    const recorded = await recordPublished(db, name, owner, {
      revision: snapshot.revision,
      at: this.#clock.now(),
      durationMs,
      files: snapshot.files.length,
    });
    if (!recorded) log.warn({ target: name }, 'status publish finished after its lease expired; the next publish corrects it');
    else log.info({ target: name, revision: snapshot.revision, ms: durationMs }, 'status site published');
    return undefined;
  }

  close(): void {
    for (const t of this.#targets.values()) t.close?.();
  }
}

function view(t: PublishTarget, p: Publication | undefined, revision: string, now: number): PublicationView {
  const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(ms).toISOString());
  return {
    target: t.name,
    type: t.type,
    revision: p?.revision ?? null,
    current: p?.revision === revision,
    published_at: iso(p?.publishedAt),
    duration_ms: p?.durationMs ?? null,
    files: p?.files ?? null,
    error: p?.error ?? null,
    attempted_at: iso(p?.attemptedAt),
    publishing: p?.leaseOwner != null && (p.leaseExpiresAt ?? 0) > now,
  };
}
