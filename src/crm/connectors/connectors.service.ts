import type { Logger } from 'pino';
import { z } from 'zod';
import type { Clock } from '../../core/clock.js';
import { PermanentError, TransientError } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import type { Database } from '../../db/database.js';
import type { JobQueue } from '../../db/jobs/job-queue.js';
import { defineJob, type JobHandler, type JobResult } from '../../db/jobs/worker.js';
import { getSetting, putSetting } from '../../db/settings.repo.js';
import { classifyFetchError, excerpt, parseRetryAfter, readText } from '../../messaging/providers/http.js';
import { decodeWebhookSecret, webhookHeaders } from '../../messaging/providers/webhook.js';
import {
  batchWebhookId,
  buildTagsPayload,
  classifyStatus,
  contactToRow,
  cursorAfter,
  HUBSPOT_BATCH_SIZE,
  HUBSPOT_PULL_PROPERTIES,
  hubspotOutageProperties,
  WEBHOOK_BATCH_SIZE,
} from './connectors.js';
import * as repo from './connectors.repo.js';
import { type FetchLike, HubspotClient, HubspotRateLimited } from './hubspot.client.js';

export const CONNECTORS_SYNC_JOB = 'crm.connectors.sync';
export const WEBHOOK_SYNC_JOB = 'crm.webhook.sync';
export const HUBSPOT_SYNC_JOB = 'crm.hubspot.sync';
export const HUBSPOT_PULL_JOB = 'crm.hubspot.pull';

/** Batches one job run sends before yielding the worker (it continues at once in a new run). */
const BATCHES_PER_RUN = 20;
/** Pages one pull run imports before yielding. */
const PAGES_PER_RUN = 50;

export interface ConnectorOptions {
  webhook?: { url: string; secret: string } | undefined;
  hubspot: { baseUrl: string; accessToken?: string | undefined };
}

export interface ConnectorDeps {
  db: Database;
  clock: Clock;
  jobs: JobQueue;
  log: Logger;
  options: ConnectorOptions;
  /** Outbound HTTP (tests may wrap it); loopback stand-ins in tests. */
  fetch?: FetchLike | undefined;
}

/** Progress of one HubSpot pull, kept in settings under crm.hubspot.pull.<runId>. */
export interface PullProgress {
  runId: string;
  after: string | null;
  pages: number;
  contacts: number;
  created: number;
  updated: number;
  done: boolean;
}

/**
 * The team's CRM hears about tag changes: a signed outbound webhook with batches of leads, and
 * HubSpot contacts' outage properties (batch update, ids found by email). Each connector keeps its
 * own cursor per incident, so a failing one never holds the other back, and nothing already
 * accepted is sent again.
 */
export class ConnectorService {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #jobs: JobQueue;
  readonly #log: Logger;
  readonly #options: ConnectorOptions;
  readonly #fetch: FetchLike;

  constructor(deps: ConnectorDeps) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#jobs = deps.jobs;
    this.#log = deps.log;
    this.#options = deps.options;
    this.#fetch = deps.fetch ?? fetch;
    if (deps.options.webhook) decodeWebhookSecret(deps.options.webhook.secret);
  }

  get webhookEnabled(): boolean {
    return this.#options.webhook !== undefined;
  }

  get hubspotEnabled(): boolean {
    return Boolean(this.#options.hubspot.accessToken);
  }

  #hubspot(): HubspotClient {
    const token = this.#options.hubspot.accessToken;
    if (!token) throw new PermanentError('HubSpot is not configured (crm.hubspot.accessToken)');
    return new HubspotClient({ baseUrl: this.#options.hubspot.baseUrl, accessToken: token, fetch: this.#fetch });
  }

  /**
   * Send the webhook batches of an incident's changed leads, from the stored cursor on. Throws
   * TransientError (retried with the job's backoff) or PermanentError (job dead with the reason).
   */
  async syncWebhook(incidentId: string, signal?: AbortSignal): Promise<JobResult> {
    const target = this.#options.webhook;
    if (!target) return undefined;
    const incident = await repo.findIncidentRef(this.#db.kysely, incidentId);
    if (!incident) throw new PermanentError(`incident ${incidentId} does not exist`);
    let cursor = await repo.readCursor(this.#db.kysely, 'webhook', incidentId);
    for (let batch = 0; batch < BATCHES_PER_RUN; batch++) {
      const leads = await repo.listChangedLeads(this.#db.kysely, incidentId, cursor, WEBHOOK_BATCH_SIZE);
      if (leads.length === 0) return undefined;
      const to = cursorAfter(leads, cursor);
      const id = batchWebhookId(incidentId, cursor, to);
      const body = JSON.stringify(buildTagsPayload(incident, leads));
      const timestamp = Math.floor(this.#clock.now() / 1000);
      const timeout = AbortSignal.timeout(20_000);
      const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
      let response: Response;
      let text: string;
      try {
        response = await this.#fetch(target.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': 'Keepwarm-Webhooks/1',
            ...webhookHeaders({ id, timestamp, body, secret: target.secret }),
          },
          body,
          signal: combined,
          redirect: 'manual',
        });
        text = await readText(response, 4 * 1024);
      } catch (err) {
        throw new TransientError(classifyFetchError(err, combined, 'CRM webhook').error.message, { cause: err });
      }
      const verdict = classifyStatus(response.status, parseRetryAfter(response.headers.get('retry-after')));
      const label = `CRM webhook: ${response.status} ${excerpt(text, 200) || response.statusText}`.trim();
      if (verdict.kind === 'rate_limited') throw new TransientError(label, { retryAfterMs: verdict.retryAfterMs });
      if (verdict.kind === 'transient') throw new TransientError(label, { retryAfterMs: verdict.retryAfterMs });
      if (verdict.kind === 'permanent') throw new PermanentError(label);
      const now = this.#clock.now();
      await this.#db.tx((trx) => repo.writeCursor(trx, 'webhook', incidentId, to, now));
      cursor = to;
      this.#log.debug({ incidentId, leads: leads.length, webhookId: id }, 'CRM webhook batch accepted');
      if (leads.length < WEBHOOK_BATCH_SIZE) return undefined;
    }
    return { rescheduleAt: this.#clock.now() };
  }

  /**
   * Write the outage properties of an incident's changed leads to HubSpot contacts, 100 at a time;
   * leads without a HubSpot id are looked up by email first (and the id kept). A 429 reschedules
   * the job after Retry-After without moving the cursor, so the batch is sent again, not lost.
   */
  async syncHubspot(incidentId: string, signal?: AbortSignal): Promise<JobResult> {
    if (!this.hubspotEnabled) return undefined;
    const client = this.#hubspot();
    let cursor = await repo.readCursor(this.#db.kysely, 'hubspot', incidentId);
    try {
      for (let batch = 0; batch < BATCHES_PER_RUN; batch++) {
        const leads = await repo.listChangedLeads(this.#db.kysely, incidentId, cursor, HUBSPOT_BATCH_SIZE);
        if (leads.length === 0) return undefined;
        let pauseMs = 0;
        const missing = leads.filter((l) => l.externalId === null && l.email !== null);
        if (missing.length > 0) {
          const found = await client.findIdsByEmail(
            missing.map((l) => l.email as string),
            signal,
          );
          pauseMs = Math.max(pauseMs, found.pauseMs);
          const pairs = missing.flatMap((l) => {
            const externalId = found.body.get(l.email as string);
            return externalId ? [{ leadId: l.id, externalId }] : [];
          });
          if (pairs.length > 0) await this.#db.tx((trx) => repo.storeExternalIds(trx, pairs));
          for (const pair of pairs) {
            const lead = leads.find((l) => l.id === pair.leadId);
            if (lead) lead.externalId = pair.externalId;
          }
        }
        const inputs = leads.flatMap((l) => (l.externalId ? [{ id: l.externalId, properties: hubspotOutageProperties(l) }] : []));
        if (inputs.length > 0) {
          const answer = await client.updateOutageProperties(inputs, signal);
          pauseMs = Math.max(pauseMs, answer.pauseMs);
          if (answer.body.failed.length > 0) {
            this.#log.warn({ incidentId, ids: answer.body.failed }, 'HubSpot could not update some contacts');
          }
        }
        const skipped = leads.length - inputs.length;
        if (skipped > 0) this.#log.info({ incidentId, skipped }, 'leads without a HubSpot contact were not synced');
        const to = cursorAfter(leads, cursor);
        const now = this.#clock.now();
        await this.#db.tx((trx) => repo.writeCursor(trx, 'hubspot', incidentId, to, now));
        cursor = to;
        if (leads.length < HUBSPOT_BATCH_SIZE) return undefined;
        if (pauseMs > 0) return { rescheduleAt: now + pauseMs };
      }
      return { rescheduleAt: this.#clock.now() };
    } catch (err) {
      if (err instanceof HubspotRateLimited) return { rescheduleAt: this.#clock.now() + err.retryAfterMs };
      throw err;
    }
  }

  /** Start importing every HubSpot contact as a lead (a job pages through them). */
  async startHubspotPull(): Promise<PullProgress> {
    if (!this.hubspotEnabled) {
      throw new PermanentError('HubSpot is not configured (crm.hubspot.accessToken)');
    }
    const now = this.#clock.now();
    const runId = newId(now);
    const progress: PullProgress = { runId, after: null, pages: 0, contacts: 0, created: 0, updated: 0, done: false };
    await this.#db.tx(async (trx) => {
      await putSetting(trx, pullKey(runId), JSON.stringify(progress), now);
      await this.#jobs.enqueue(trx, { kind: HUBSPOT_PULL_JOB, payload: { runId }, key: `${HUBSPOT_PULL_JOB}@${runId}` });
    });
    return progress;
  }

  async pullProgress(runId: string): Promise<PullProgress | null> {
    const text = await getSetting(this.#db.kysely, pullKey(runId));
    return text ? (JSON.parse(text) as PullProgress) : null;
  }

  /** Import pages of HubSpot contacts, each page upserted with its paging token in one transaction. */
  async runHubspotPull(runId: string, signal?: AbortSignal): Promise<JobResult> {
    const client = this.#hubspot();
    const progress = await this.pullProgress(runId);
    if (!progress) throw new PermanentError(`HubSpot pull ${runId} does not exist`);
    if (progress.done) return undefined;
    try {
      for (let page = 0; page < PAGES_PER_RUN; page++) {
        const answer = await client.listContacts(HUBSPOT_PULL_PROPERTIES, progress.after ?? undefined, signal);
        const rows = answer.body.contacts.map(contactToRow);
        const now = this.#clock.now();
        await this.#db.tx(async (trx) => {
          const counts = await repo.upsertPulledContacts(trx, rows, now);
          progress.pages++;
          progress.contacts += rows.length;
          progress.created += counts.created;
          progress.updated += counts.updated;
          progress.after = answer.body.after ?? null;
          progress.done = answer.body.after === undefined;
          await putSetting(trx, pullKey(runId), JSON.stringify(progress), now);
        });
        if (progress.done) return undefined;
        if (answer.pauseMs > 0) return { rescheduleAt: now + answer.pauseMs };
      }
      return { rescheduleAt: this.#clock.now() };
    } catch (err) {
      if (err instanceof HubspotRateLimited) return { rescheduleAt: this.#clock.now() + err.retryAfterMs };
      throw err;
    }
  }

  jobHandlers(): JobHandler[] {
    const incident = z.object({ incidentId: z.string().min(1) });
    return [
      defineJob({
        kind: CONNECTORS_SYNC_JOB,
        payload: incident,
        run: async (payload, ctx) => {
          // One job per configured connector: each keeps its own retries and cursor.
          await ctx.transaction(async (trx) => {
            if (this.webhookEnabled) {
              await this.#jobs.enqueue(trx, {
                kind: WEBHOOK_SYNC_JOB,
                payload,
                key: `${WEBHOOK_SYNC_JOB}@${payload.incidentId}@${ctx.job.id}`,
              });
            }
            if (this.hubspotEnabled) {
              await this.#jobs.enqueue(trx, {
                kind: HUBSPOT_SYNC_JOB,
                payload,
                key: `${HUBSPOT_SYNC_JOB}@${payload.incidentId}@${ctx.job.id}`,
              });
            }
          });
          return undefined;
        },
      }),
      defineJob({
        kind: WEBHOOK_SYNC_JOB,
        payload: incident,
        backoff: { baseMs: 10_000, maxMs: 15 * 60_000 },
        run: (payload, ctx) => this.syncWebhook(payload.incidentId, ctx.signal),
      }),
      defineJob({
        kind: HUBSPOT_SYNC_JOB,
        payload: incident,
        backoff: { baseMs: 10_000, maxMs: 15 * 60_000 },
        run: (payload, ctx) => this.syncHubspot(payload.incidentId, ctx.signal),
      }),
      defineJob({
        kind: HUBSPOT_PULL_JOB,
        payload: z.object({ runId: z.string().min(1) }),
        backoff: { baseMs: 10_000, maxMs: 15 * 60_000 },
        run: (payload, ctx) => this.runHubspotPull(payload.runId, ctx.signal),
      }),
    ];
  }
}

function pullKey(runId: string): string {
  return `crm.hubspot.pull.${runId}`;
}

/** Build the connectors from the app's services (config crm.webhook, crm.hubspot). */
export function createConnectorServices(services: {
  config: { crm: ConnectorOptions };
  db: Database;
  clock: Clock;
  jobs: JobQueue;
  log: Logger;
}): { connectors: ConnectorService } {
  return {
    connectors: new ConnectorService({
      db: services.db,
      clock: services.clock,
      jobs: services.jobs,
      log: services.log.child({ role: 'crm-connectors' }),
      options: { webhook: services.config.crm.webhook, hubspot: services.config.crm.hubspot },
    }),
  };
}
