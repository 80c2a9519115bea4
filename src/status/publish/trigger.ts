import type { Executor } from '../../db/database.js';
import { enqueueJob } from '../../db/jobs/jobs.repo.js';
import { FLAGS_PUBLISH_JOB } from '../../fallback/mirror/jobs.js';

/** Publishes the status site to every static target (fans out to one job per target). */
export const PUBLISH_JOB = 'status.publish';
/** Publishes the current site to one target; retried with backoff on its own. */
export const PUBLISH_TARGET_JOB = 'status.publish.target';

const ATTEMPTS = 10;

/**
 * Called inside every transaction that changes what the public surfaces show (with the new
 * public revision): the publish job exists exactly when the change commits. One job per
 * revision; a burst of changes coalesces in the target jobs, which publish whatever is newest
 * and skip revisions already covered.
 */
export async function enqueueStatusPublish(ex: Executor, now: number, revision: string): Promise<void> {
  await enqueueJob(ex, now, ATTEMPTS, { kind: PUBLISH_JOB, payload: { revision }, key: `${PUBLISH_JOB}@${revision}` });
  // The kill switches follow the incidents: flags.json beside the fallback mirror too.
  await enqueueJob(ex, now, ATTEMPTS, {
    kind: FLAGS_PUBLISH_JOB,
    payload: { revision },
    key: `${FLAGS_PUBLISH_JOB}@${revision}`,
  });
}
