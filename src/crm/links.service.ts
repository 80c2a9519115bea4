import type { Logger } from 'pino';
import type { InstallationSecret } from '../app/secret.js';
import type { Clock } from '../core/clock.js';
import type { Database } from '../db/database.js';
import { markReEngaged } from './conversations/conversations.repo.js';
import { type LinkClaim, readLink } from './links.js';

export type FollowResult =
  | { ok: true; claim: LinkClaim; firstReEngagement: boolean }
  | { ok: false; reason: 'invalid' | 'expired' };

/**
 * Following a signed redirect link: a valid, unexpired token marks its lead re-engaged (the first
 * time only: leads.re_engaged_at) and yields the target. Clicks are not stored one by one; the
 * re-engagement time is what recovery reads.
 */
export class LinkService {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #secret: InstallationSecret;
  readonly #log: Logger;

  constructor(deps: { db: Database; clock: Clock; secret: InstallationSecret; log: Logger }) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#secret = deps.secret;
    this.#log = deps.log;
  }

  async follow(token: string): Promise<FollowResult> {
    const now = this.#clock.now();
    const reading = readLink(await this.#secret.get(), token, now);
    if (!reading.ok) return reading;
    const first = await this.#db.tx((trx) => markReEngaged(trx, reading.claim.leadId, now));
    if (first) this.#log.info({ leadId: reading.claim.leadId, kind: reading.claim.kind }, 'lead re-engaged by a link');
    return { ok: true, claim: reading.claim, firstReEngagement: first };
  }
}
