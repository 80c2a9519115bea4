import { sql } from 'kysely';
import { newId, newSecret } from '../../core/ids.js';
import { fromDbJson, toDbJson } from '../codec.js';
import type { Database, Executor } from '../database.js';
import type { Row } from '../schema.js';
import type { Job, JobState } from './jobs.js';

export interface EnqueueInput {
  kind: string;
  payload: unknown;
  /** Unique across all jobs ever enqueued: a second enqueue with the same key is a no-op. */
  key?: string;
  runAt?: number;
  maxAttempts?: number;
  /**
   * Bulk work, one job per recipient (message deliveries, webhooks): claimed only after every
   * due job of the other lane, so a fan-out never delays the status page or the playbook.
   */
  bulk?: boolean;
}

export function toJob(row: Row<'jobs'>): Job {
  return {
    id: row.id,
    kind: row.kind,
    payload: fromDbJson(row.payload, null),
    idempotencyKey: row.idempotency_key,
    state: row.state as JobState,
    runAt: row.run_at,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    leaseToken: row.lease_token,
    leaseExpiresAt: row.lease_expires_at,
    lockedBy: row.locked_by,
    lastError: row.last_error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at,
  };
}

function jobRow(now: number, defaultMaxAttempts: number, input: EnqueueInput) {
  const id = newId(now);
  return {
    id,
    kind: input.kind,
    payload: toDbJson(input.payload ?? null),
    idempotency_key: input.key ?? `${input.kind}:${id}`,
    state: 'queued',
    run_at: input.runAt ?? now,
    bulk: input.bulk ? 1 : 0,
    attempts: 0,
    max_attempts: input.maxAttempts ?? defaultMaxAttempts,
    created_at: now,
    updated_at: now,
  };
}

/**
 * Add a job inside the caller's transaction (pass the transaction handle), so the job exists if
 * and only if the fact that needs it was committed. Returns whether a new job was created.
 */
export async function enqueueJob(
  ex: Executor,
  now: number,
  defaultMaxAttempts: number,
  input: EnqueueInput,
): Promise<{ id: string; created: boolean }> {
  const inserted = await ex
    .insertInto('jobs')
    .values(jobRow(now, defaultMaxAttempts, input))
    .onConflict((oc) => oc.column('idempotency_key').doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted ? { id: inserted.id, created: true } : { id: '', created: false };
}

/** Many jobs in multi-row statements (a fan-out of thousands of messages is a few statements). */
export async function enqueueJobs(
  ex: Executor,
  now: number,
  defaultMaxAttempts: number,
  inputs: readonly EnqueueInput[],
): Promise<number> {
  let created = 0;
  for (let i = 0; i < inputs.length; i += 500) {
    const inserted = await ex
      .insertInto('jobs')
      .values(inputs.slice(i, i + 500).map((input) => jobRow(now, defaultMaxAttempts, input)))
      .onConflict((oc) => oc.column('idempotency_key').doNothing())
      .returning('id')
      .execute();
    created += inserted.length;
  }
  return created;
}

/**
 * Claim up to `limit` due jobs: queued with run_at <= now, or running with an expired lease (a
 * crashed worker's). Each claimed job gets a fresh lease token that fences every later write.
 * PostgreSQL skips rows other workers hold (FOR UPDATE SKIP LOCKED); SQLite runs the same
 * statement inside its single write transaction.
 */
export async function claimJobs(
  db: Database,
  input: { now: number; workerId: string; leaseMs: number; limit: number; kinds: readonly string[] },
): Promise<Job[]> {
  if (input.kinds.length === 0 || input.limit <= 0) return [];
  const token = newSecret(12);
  return db.tx(async (trx) => {
    // Index-ordered lookups, not one OR: expired leases first (rare, jobs_leased), then due jobs
    // in run_at order (jobs_due), so a claim reads only the rows it takes. The states are
    // literals so both dialects can use the partial indexes.
    let expired = trx
      .selectFrom('jobs')
      .select('id')
      .where('state', '=', sql.lit('running'))
      .where('lease_expires_at', '<=', input.now)
      .where('kind', 'in', input.kinds)
      .orderBy('lease_expires_at')
      .limit(input.limit);
    if (db.dialect === 'postgres') expired = expired.forUpdate().skipLocked();
    const ids = (await expired.execute()).map((r) => r.id);
    // Then due jobs lane by lane: the first lane's, then bulk ones (jobs_due is on bulk, run_at).
    for (const bulk of [0, 1]) {
      if (ids.length >= input.limit) break;
      let due = trx
        .selectFrom('jobs')
        .select('id')
        .where('state', '=', sql.lit('queued'))
        .where('bulk', '=', sql.lit(bulk))
        .where('run_at', '<=', input.now)
        .where('kind', 'in', input.kinds)
        .orderBy('run_at')
        .limit(input.limit - ids.length);
      if (db.dialect === 'postgres') due = due.forUpdate().skipLocked();
      ids.push(...(await due.execute()).map((r) => r.id));
    }
    if (ids.length === 0) return [];
    const rows = await trx
      .updateTable('jobs')
      .set((eb) => ({
        state: 'running',
        lease_token: token,
        lease_expires_at: input.now + input.leaseMs,
        locked_by: input.workerId,
        attempts: eb('attempts', '+', 1),
        updated_at: input.now,
      }))
      .where('id', 'in', ids)
      .returningAll()
      .execute();
    return rows.map(toJob).sort((a, b) => a.runAt - b.runAt || (a.id < b.id ? -1 : 1));
  });
}

/**
 * Mark many jobs done in one statement per lease token; returns how many were completed (fewer
 * than given when some lease was lost meanwhile).
 */
export async function completeJobs(ex: Executor, jobs: readonly Job[], now: number): Promise<number> {
  const byToken = new Map<string, string[]>();
  for (const job of jobs) byToken.set(job.leaseToken ?? '', [...(byToken.get(job.leaseToken ?? '') ?? []), job.id]);
  let completed = 0;
  for (const [token, ids] of byToken) {
    for (let i = 0; i < ids.length; i += 500) {
      const res = await ex
        .updateTable('jobs')
        .set({ state: 'done', finished_at: now, updated_at: now, lease_token: null, lease_expires_at: null })
        .where('id', 'in', ids.slice(i, i + 500))
        .where('lease_token', '=', token)
        .where('state', '=', 'running')
        .executeTakeFirst();
      completed += Number(res.numUpdatedRows);
    }
  }
  return completed;
}

/** Mark done; false when the lease was lost (another worker re-claimed the job). */
export async function completeJob(ex: Executor, job: Job, now: number): Promise<boolean> {
  const res = await ex
    .updateTable('jobs')
    .set({ state: 'done', finished_at: now, updated_at: now, lease_token: null, lease_expires_at: null })
    .where('id', '=', job.id)
    .where('lease_token', '=', job.leaseToken)
    .where('state', '=', 'running')
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

export async function failJob(
  ex: Executor,
  job: Job,
  now: number,
  outcome: { state: 'queued'; runAt: number } | { state: 'dead' },
  error: string,
): Promise<boolean> {
  const res = await ex
    .updateTable('jobs')
    .set({
      state: outcome.state,
      run_at: outcome.state === 'queued' ? outcome.runAt : job.runAt,
      finished_at: outcome.state === 'dead' ? now : null,
      last_error: error.slice(0, 4000),
      lease_token: null,
      lease_expires_at: null,
      locked_by: null,
      updated_at: now,
    })
    .where('id', '=', job.id)
    .where('lease_token', '=', job.leaseToken)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/**
 * Put a job back without charging an attempt: a graceful shutdown interrupted it, or the
 * handler asked to run again later (quiet hours, a provider's rate limit).
 */
export async function releaseJob(ex: Executor, job: Job, now: number, runAt: number): Promise<boolean> {
  const res = await ex
    .updateTable('jobs')
    .set((eb) => ({
      state: 'queued',
      run_at: runAt,
      attempts: eb('attempts', '-', 1),
      lease_token: null,
      lease_expires_at: null,
      locked_by: null,
      updated_at: now,
    }))
    .where('id', '=', job.id)
    .where('lease_token', '=', job.leaseToken)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

export async function extendLease(ex: Executor, job: Job, leaseExpiresAt: number): Promise<boolean> {
  const res = await ex
    .updateTable('jobs')
    .set({ lease_expires_at: leaseExpiresAt })
    .where('id', '=', job.id)
    .where('lease_token', '=', job.leaseToken)
    .where('state', '=', 'running')
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/** Workers holding leases on running jobs, with how many each holds. */
export async function leaseHolders(ex: Executor): Promise<Array<{ lockedBy: string; n: number }>> {
  const rows = await ex
    .selectFrom('jobs')
    .select(['locked_by', sql<number>`count(*)`.as('n')])
    .where('state', '=', 'running')
    .where('locked_by', 'is not', null)
    .groupBy('locked_by')
    .execute();
  return rows.map((r) => ({ lockedBy: r.locked_by as string, n: Number(r.n) }));
}

/** End the leases of a worker known to be gone, so its jobs can be claimed now. */
export async function expireLeasesOf(ex: Executor, lockedBy: string, now: number): Promise<number> {
  const res = await ex
    .updateTable('jobs')
    .set({ lease_expires_at: now })
    .where('state', '=', 'running')
    .where('locked_by', '=', lockedBy)
    .executeTakeFirst();
  return Number(res.numUpdatedRows);
}

export async function findJobByKey(ex: Executor, key: string): Promise<Job | undefined> {
  const row = await ex.selectFrom('jobs').selectAll().where('idempotency_key', '=', key).executeTakeFirst();
  return row ? toJob(row) : undefined;
}

export async function countJobsByState(ex: Executor): Promise<Record<JobState, number>> {
  const rows = await ex
    .selectFrom('jobs')
    .select(['state', sql<number>`count(*)`.as('n')])
    .groupBy('state')
    .execute();
  const out: Record<JobState, number> = { queued: 0, running: 0, done: 0, dead: 0 };
  for (const r of rows) out[r.state as JobState] = Number(r.n);
  return out;
}

export async function listJobs(ex: Executor, filter: { state?: JobState; kind?: string; limit?: number }): Promise<Job[]> {
  let q = ex
    .selectFrom('jobs')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(filter.limit ?? 100);
  if (filter.state) q = q.where('state', '=', filter.state);
  if (filter.kind) q = q.where('kind', '=', filter.kind);
  return (await q.execute()).map(toJob);
}

/** Dead jobs back to the queue (an operator fixed the cause). */
export async function retryDeadJob(ex: Executor, id: string, now: number): Promise<boolean> {
  const res = await ex
    .updateTable('jobs')
    .set({ state: 'queued', run_at: now, attempts: 0, finished_at: null, updated_at: now })
    .where('id', '=', id)
    .where('state', '=', 'dead')
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}
