import type { Executor } from '../../db/database.js';

export interface Publication {
  target: string;
  revision: string | null;
  publishedAt: number | null;
  durationMs: number | null;
  files: number | null;
  error: string | null;
  attemptedAt: number | null;
  leaseOwner: string | null;
  leaseExpiresAt: number | null;
}

export async function listPublications(ex: Executor): Promise<Publication[]> {
  const rows = await ex.selectFrom('publications').selectAll().orderBy('target').execute();
  return rows.map((r) => ({
    target: r.target,
    revision: r.revision,
    publishedAt: r.published_at,
    durationMs: r.duration_ms,
    files: r.files,
    error: r.error,
    attemptedAt: r.attempted_at,
    leaseOwner: r.lease_owner,
    leaseExpiresAt: r.lease_expires_at,
  }));
}

export async function findPublication(ex: Executor, target: string): Promise<Publication | undefined> {
  return (await listPublications(ex)).find((p) => p.target === target);
}

/**
 * Take the target's lease if nobody holds a live one. One conditional UPDATE: of two workers
 * racing, exactly one sees a row changed.
 */
export async function acquireLease(ex: Executor, target: string, owner: string, now: number, until: number): Promise<boolean> {
  await ex
    .insertInto('publications')
    .values({ target })
    .onConflict((oc) => oc.column('target').doNothing())
    .execute();
  const result = await ex
    .updateTable('publications')
    .set({ lease_owner: owner, lease_expires_at: until })
    .where('target', '=', target)
    .where((eb) => eb.or([eb('lease_owner', 'is', null), eb('lease_expires_at', '<', now)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/**
 * Record a successful publish, fenced by the lease and never moving the revision backwards.
 * Returns false if the lease was lost or a newer revision was recorded meanwhile.
 */
export async function recordPublished(
  ex: Executor,
  target: string,
  owner: string,
  done: { revision: string; at: number; durationMs: number; files: number },
): Promise<boolean> {
  const result = await ex
    .updateTable('publications')
    .set({
      revision: done.revision,
      published_at: done.at,
      duration_ms: done.durationMs,
      files: done.files,
      error: null,
      attempted_at: done.at,
      lease_owner: null,
      lease_expires_at: null,
    })
    .where('target', '=', target)
    .where('lease_owner', '=', owner)
    .where((eb) => eb.or([eb('revision', 'is', null), eb('revision', '<', done.revision)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function recordFailure(ex: Executor, target: string, owner: string, error: string, at: number): Promise<void> {
  await ex
    .updateTable('publications')
    .set({ error: error.slice(0, 2000), attempted_at: at, lease_owner: null, lease_expires_at: null })
    .where('target', '=', target)
    .where('lease_owner', '=', owner)
    .execute();
}

export async function releaseLease(ex: Executor, target: string, owner: string): Promise<void> {
  await ex
    .updateTable('publications')
    .set({ lease_owner: null, lease_expires_at: null })
    .where('target', '=', target)
    .where('lease_owner', '=', owner)
    .execute();
}
