import type { Logger } from 'pino';
import { z } from 'zod';
import type { Actor } from '../app/actor.js';
import type { InstallationSecret } from '../app/secret.js';
import { recordAudit } from '../audit/audit.repo.js';
import { type Clock, HOUR, toIso } from '../core/clock.js';
import type { Database, Executor } from '../db/database.js';
import type { JobQueue } from '../db/jobs/job-queue.js';
import { defineJob, type JobHandler } from '../db/jobs/worker.js';
import { getSetting, putSetting } from '../db/settings.repo.js';
import * as repo from './privacy.repo.js';
import { applyPatch, cutoffs, decodeRetention, type Retention, type RetentionPatch } from './retention.js';
import { parseSubject, type Subject, subjectHash } from './subject.js';

export const PURGE_JOB = 'privacy.purge';
export const PURGE_EVERY_MS = HOUR;
/** Rows per purge transaction: a large purge is many short transactions, never one long one. */
export const PURGE_BATCH = 500;

const RETENTION_SETTING = 'privacy.retention';
const LAST_PURGE_SETTING = 'privacy.last_purge';

export interface RetentionView {
  value: Retention;
  /** config: from the configuration (privacy.retention); console: saved in the console or API. */
  source: 'config' | 'console';
  updatedAt: number | null;
  /** The configuration's values (what "use the configuration" goes back to). */
  configured: Retention;
}

export interface PurgeResult {
  ranAt: number;
  durationMs: number;
  /** The settings the run used. */
  retention: Retention;
  messagesRedacted: number;
  beaconSignalsDeleted: number;
  intentEventsDeleted: number;
  conversationsDeleted: number;
  inboundMessagesDeleted: number;
  /** False when the run stopped early (shutdown): the next run carries on. */
  complete: boolean;
}

export interface PersonExport {
  generated_at: string;
  subject: Subject;
  addresses: { emails: string[]; phones: string[] };
  counts: Record<string, number>;
  tables: Record<string, Array<Record<string, unknown>>>;
}

export interface ErasureResult {
  kind: Subject['kind'];
  /** Keyed hash of the address (the audit entry's link; no personal data). */
  subjectHash: string;
  /** How many addresses (the subject's and their leads' other ones) were erased. */
  addresses: number;
  tables: repo.ErasureCounts['tables'];
  suppressed: number;
  /** A staff account with this address is not erased here: manage it under Users. */
  staffAccounts: number;
  auditId: string | null;
}

/**
 * Retention and privacy: the retention settings (configuration defaults, overridable in the
 * console), the purge job that enforces them in short batches, and export and erasure of
 * everything held about one person.
 */
export class PrivacyService {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #secret: InstallationSecret;
  readonly #jobs: JobQueue;
  readonly #configured: Retention;

  constructor(deps: {
    db: Database;
    clock: Clock;
    log: Logger;
    secret: InstallationSecret;
    jobs: JobQueue;
    retention: Retention;
  }) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#log = deps.log;
    this.#secret = deps.secret;
    this.#jobs = deps.jobs;
    this.#configured = { ...deps.retention };
  }

  // ---- Retention settings ----

  async retention(): Promise<RetentionView> {
    const row = await this.#db.kysely
      .selectFrom('settings')
      .select(['value', 'updated_at'])
      .where('key', '=', RETENTION_SETTING)
      .executeTakeFirst();
    const saved = decodeRetention(row?.value, this.#configured);
    return saved
      ? { value: saved, source: 'console', updatedAt: row?.updated_at ?? null, configured: this.#configured }
      : { value: this.#configured, source: 'config', updatedAt: null, configured: this.#configured };
  }

  /** Save new retention periods (absent ones unchanged); they take over from the configuration. */
  async setRetention(actor: Actor, patch: RetentionPatch): Promise<RetentionView> {
    const current = (await this.retention()).value;
    const next = applyPatch(current, patch);
    const now = this.#clock.now();
    await this.#db.tx(async (trx) => {
      await putSetting(trx, RETENTION_SETTING, JSON.stringify(next), now);
      await recordAudit(trx, { at: now, actor, action: 'privacy.retention.update', details: { ...next } });
    });
    return this.retention();
  }

  /** Forget the saved periods: the configuration's apply again. */
  async resetRetention(actor: Actor): Promise<RetentionView> {
    const now = this.#clock.now();
    await this.#db.tx(async (trx) => {
      await repo.deleteSetting(trx, RETENTION_SETTING);
      await recordAudit(trx, { at: now, actor, action: 'privacy.retention.reset', details: { ...this.#configured } });
    });
    return this.retention();
  }

  // ---- Purge ----

  /**
   * Remove what is past retention, each kind in batches of `batchSize` rows, each batch its own
   * short transaction. Running it again removes nothing more (idempotent).
   */
  async purge(options: { signal?: AbortSignal; batchSize?: number; actor?: Actor } = {}): Promise<PurgeResult> {
    const started = this.#clock.now();
    const t0 = performance.now();
    const retention = (await this.retention()).value;
    const cut = cutoffs(retention, started);
    const size = options.batchSize ?? PURGE_BATCH;
    let complete = true;
    const drain = async (cutoff: number | null, batch: (trx: Executor, cutoff: number) => Promise<number>) => {
      if (cutoff === null) return 0;
      let total = 0;
      for (;;) {
        if (options.signal?.aborted) {
          complete = false;
          return total;
        }
        const n = await this.#db.tx((trx) => batch(trx, cutoff));
        total += n;
        if (n < size) return total;
      }
    };
    const result: PurgeResult = {
      ranAt: started,
      durationMs: 0,
      retention,
      messagesRedacted: await drain(cut.messageBodiesDays, (trx, c) => repo.redactMessagesBatch(trx, c, started, size)),
      beaconSignalsDeleted: await drain(cut.beaconsDays, (trx, c) => repo.deleteBeaconSignalsBatch(trx, c, size)),
      intentEventsDeleted: await drain(cut.eventsDays, (trx, c) => repo.deleteEventsBatch(trx, c, size)),
      conversationsDeleted: await drain(cut.conversationsDays, (trx, c) => repo.deleteConversationsBatch(trx, c, size)),
      inboundMessagesDeleted: await drain(cut.conversationsDays, (trx, c) => repo.deleteInboundBatch(trx, c, size)),
      complete,
    };
    result.complete = complete;
    result.durationMs = Math.round(performance.now() - t0);
    await this.#db.tx(async (trx) => {
      await putSetting(trx, LAST_PURGE_SETTING, JSON.stringify(result), this.#clock.now());
      // A run someone asked for is audited; the hourly job's runs are logged.
      if (options.actor) {
        const { retention: _settings, ...counts } = result;
        await recordAudit(trx, { at: this.#clock.now(), actor: options.actor, action: 'privacy.purge', details: counts });
      }
    });
    const removed =
      result.messagesRedacted +
      result.beaconSignalsDeleted +
      result.intentEventsDeleted +
      result.conversationsDeleted +
      result.inboundMessagesDeleted;
    if (removed > 0) this.#log.info({ ...result, retention: undefined }, 'retention purge');
    return result;
  }

  async lastPurge(): Promise<PurgeResult | null> {
    const text = await getSetting(this.#db.kysely, LAST_PURGE_SETTING);
    if (text === undefined) return null;
    try {
      return JSON.parse(text) as PurgeResult;
    } catch {
      return null;
    }
  }

  jobHandlers(): JobHandler[] {
    return [
      defineJob({
        kind: PURGE_JOB,
        payload: z.object({}).passthrough(),
        run: async (_payload, ctx) => {
          await this.purge({ signal: ctx.signal });
          await this.#db.tx((trx) => this.scheduleRecurring(trx));
          return undefined;
        },
      }),
    ];
  }

  scheduleRecurring(trx: Executor): Promise<void> {
    return this.#jobs.scheduleRecurring(trx, PURGE_JOB, PURGE_EVERY_MS);
  }

  // ---- A person's data ----

  /** How many rows each table holds about the person (nothing changes; not audited). */
  async preview(raw: unknown): Promise<{ subject: Subject; counts: Record<repo.PersonalTable, number>; addresses: number }> {
    const subject = parseSubject(raw);
    const located = await repo.locate(this.#db.kysely, this.#db.dialect, subject);
    return { subject, counts: repo.countsOf(located), addresses: located.emails.length + located.phones.length };
  }

  /** One JSON document with every row held about the person, by table. Audited (without the address). */
  async exportPerson(actor: Actor, raw: unknown): Promise<PersonExport> {
    const subject = parseSubject(raw);
    const secret = await this.#secret.get();
    const now = this.#clock.now();
    return this.#db.tx(async (trx) => {
      const located = await repo.locate(trx, this.#db.dialect, subject);
      const tables = await repo.exportRows(trx, located);
      const counts = Object.fromEntries(Object.entries(tables).map(([t, rows]) => [t, rows.length]));
      await recordAudit(trx, {
        at: now,
        actor,
        action: 'privacy.export',
        target: { type: 'person', id: subjectHash(secret, subject) },
        details: { kind: subject.kind, counts },
      });
      return {
        generated_at: toIso(now),
        subject,
        addresses: { emails: located.emails, phones: located.phones },
        counts,
        tables,
      };
    });
  }

  /**
   * Erase the person from every table in one transaction, leaving an audit entry with counts and
   * a keyed hash of the address, never the address. Running it again finds nothing more.
   */
  async erase(actor: Actor, raw: unknown, options: { suppress?: boolean } = {}): Promise<ErasureResult> {
    const subject = parseSubject(raw);
    const suppress = options.suppress ?? true;
    const secret = await this.#secret.get();
    const hash = subjectHash(secret, subject);
    const now = this.#clock.now();
    const result = await this.#db.tx(async (trx) => {
      const located = await repo.locate(trx, this.#db.dialect, subject);
      const counts = await repo.eraseLocated(trx, located, { now, suppress });
      const staffAccounts = located.ids.users.length;
      const details = {
        kind: subject.kind,
        addresses: located.emails.length + located.phones.length,
        rows: Object.fromEntries(Object.entries(counts.tables).map(([t, c]) => [t, c.rows])),
        suppressed: counts.suppressed,
        suppress,
        staff_accounts: staffAccounts,
      };
      await recordAudit(trx, { at: now, actor, action: 'privacy.erase', target: { type: 'person', id: hash }, details });
      return { located, counts, staffAccounts };
    });
    const audit = await this.#db.kysely
      .selectFrom('audit_log')
      .select('id')
      .where('action', '=', 'privacy.erase')
      .where('target_id', '=', hash)
      .orderBy('id', 'desc')
      .executeTakeFirst();
    this.#log.info({ kind: subject.kind, subject_hash: hash }, 'person erased');
    return {
      kind: subject.kind,
      subjectHash: hash,
      addresses: result.located.emails.length + result.located.phones.length,
      tables: result.counts.tables,
      suppressed: result.counts.suppressed,
      staffAccounts: result.staffAccounts,
      auditId: audit?.id ?? null,
    };
  }

  /** The keyed hash an erasure or export of this address was audited under. */
  async hashOf(raw: unknown): Promise<string> {
    return subjectHash(await this.#secret.get(), parseSubject(raw));
  }
}
