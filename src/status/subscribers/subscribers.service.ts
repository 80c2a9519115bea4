import type { Logger } from 'pino';
import { z } from 'zod';
import type { Actor } from '../../app/actor.js';
import type { InstallationSecret } from '../../app/secret.js';
import { recordAudit } from '../../audit/audit.repo.js';
import { type Clock, HOUR, toIso } from '../../core/clock.js';
import {
  AppError,
  errorMessage,
  notFound,
  PermanentError,
  TransientError,
  tooManyRequests,
  unprocessable,
} from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import { RateLimiter } from '../../core/rate-limit.js';
import { signToken, verifyToken } from '../../core/signing.js';
import type { Database, Executor } from '../../db/database.js';
import type { JobQueue } from '../../db/jobs/job-queue.js';
import { defineJob, type JobHandler } from '../../db/jobs/worker.js';
import { listComponents } from '../../incidents/components.repo.js';
import { findIncident, listEvents, listIncidentComponents } from '../../incidents/incidents.repo.js';
import type { IncidentChange, PublishedUpdate } from '../../incidents/incidents.service.js';
import type { OutboxService, Recipient } from '../../messaging/outbox.service.js';
import { webhookHeaders, webhookMessageId } from '../../messaging/providers/webhook.js';
import {
  buildWebhookUpdate,
  checkSmsCode,
  EMAIL_CONFIRM_MS,
  hashIp,
  hashLinkToken,
  hashSmsCode,
  isLoopbackHost,
  newLinkToken,
  newSmsCode,
  normalizeSubscriberAddress,
  parseComponentSelection,
  SMS_CODE_MS,
  SUBSCRIBER_CHANNELS,
  type SubscriberChannel,
  type SubscriberState,
  wantsUpdate,
  webhookSecretFor,
} from './subscribers.js';
import * as repo from './subscribers.repo.js';

export const NOTIFY_JOB = 'status.notify_subscribers';
export const WEBHOOK_CONFIRM_JOB = 'status.subscriber_webhook_confirm';
export const WEBHOOK_UPDATE_JOB = 'status.subscriber_webhook_update';

export const CONFIRM_TEMPLATE = 'email.subscription_confirm';
export const CODE_TEMPLATE = 'sms.subscribe_code';
export const EMAIL_UPDATE_TEMPLATE = 'email.status_update';
export const SMS_UPDATE_TEMPLATE = 'sms.status_update';

/** Subscribers handled per transaction by the fan-out. */
const FANOUT_PAGE = 1000;

/** Posts a webhook body; answers the HTTP status (throws on network errors and timeouts). */
export type WebhookPoster = (
  url: string,
  init: { headers: Record<string, string>; body: string; signal: AbortSignal },
) => Promise<number>;

export const fetchPoster: WebhookPoster = async (url, init) => {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': 'Keepwarm-Status/1', ...init.headers },
    body: init.body,
    signal: AbortSignal.any([init.signal, AbortSignal.timeout(10_000)]),
    redirect: 'manual',
  });
  await response.arrayBuffer().catch(() => undefined);
  return response.status;
};

export interface SubscribeInput {
  channel?: string | undefined;
  address?: string | undefined;
  email?: string | undefined;
  phone?: string | undefined;
  url?: string | undefined;
  components?: string | string[] | undefined;
}

/** What every subscribe request is told, whatever the address's state (nothing is revealed). */
export interface SubscribeAnswer {
  channel: SubscriberChannel;
  /** What happens next: a link by email, a code by SMS, a signed ping to the webhook. */
  next: 'confirm_email' | 'enter_code' | 'answer_ping';
  /** Echoed for the SMS code form (the caller typed it). */
  address: string;
}

export interface SubscriberServiceOptions {
  publicUrl: string;
  pageName: string;
  /** Default template variables (company, …), as the outbox has them. */
  variables: Record<string, string>;
  /** Subscribe requests per client IP per 10 minutes. */
  perIpPer10Minutes?: number;
  /** Confirmation messages per address per hour (more are silently not sent). */
  perAddressPerHour?: number;
}

export interface SubscriberView {
  id: string;
  channel: SubscriberChannel;
  address: string;
  components: repo.Subscriber['components'];
  state: SubscriberState;
  created_at: string;
  confirmed_at: string | null;
  unsubscribed_at: string | null;
}

/** Template problems (unapproved, unrenderable): the operator's to fix, not the visitor's. */
const TEMPLATE_PROBLEMS: ReadonlySet<string> = new Set(['template_not_approved', 'render_failed']);

/**
 * Public subscriptions to status updates: double opt-in per channel, unsubscribe, and the fan-out
 * of every public incident update to the confirmed subscribers it concerns.
 */
export class SubscriberService {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #jobs: JobQueue;
  readonly #outbox: OutboxService;
  readonly #secret: InstallationSecret;
  readonly #log: Logger;
  readonly #post: WebhookPoster;
  readonly #options: SubscriberServiceOptions;
  readonly #perIp: RateLimiter;
  readonly #perAddress: RateLimiter;

  constructor(deps: {
    db: Database;
    clock: Clock;
    jobs: JobQueue;
    outbox: OutboxService;
    secret: InstallationSecret;
    log: Logger;
    post?: WebhookPoster;
    options: SubscriberServiceOptions;
  }) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#jobs = deps.jobs;
    this.#outbox = deps.outbox;
    this.#secret = deps.secret;
    this.#log = deps.log;
    this.#post = deps.post ?? fetchPoster;
    this.#options = deps.options;
    const perIp = deps.options.perIpPer10Minutes ?? 20;
    this.#perIp = new RateLimiter({ capacity: perIp, perMs: 10 * 60_000, clock: deps.clock });
    const perAddress = deps.options.perAddressPerHour ?? 3;
    this.#perAddress = new RateLimiter({ capacity: perAddress, perMs: HOUR, clock: deps.clock });
  }

  get statusPageUrl(): string {
    return `${this.#options.publicUrl}/status`;
  }

  #variables(): Record<string, string> {
    return { company: this.#options.variables.company ?? this.#options.pageName };
  }

  /**
   * Start a subscription. The answer is the same whether the address is new, pending, confirmed
   * or unsubscribed; only the address's owner learns more (by the message they receive).
   */
  async subscribe(input: SubscribeInput, ip: string | null): Promise<SubscribeAnswer> {
    const channel = resolveChannel(input);
    const field = input.address !== undefined ? 'address' : channel === 'email' ? 'email' : channel === 'sms' ? 'phone' : 'url';
    const raw = input.address ?? (channel === 'email' ? input.email : channel === 'sms' ? input.phone : input.url) ?? '';
    const address = normalizeSubscriberAddress(channel, raw, field);
    const components = parseComponentSelection(
      input.components,
      new Set((await listComponents(this.#db.kysely)).map((c) => c.id)),
    );
    const ipDecision = this.#perIp.take(ip ?? 'unknown');
    if (!ipDecision.ok) {
      throw tooManyRequests(
        'Too many subscription requests from this address; try again later.',
        Math.ceil(ipDecision.retryAfterMs / 1000),
      );
    }
    const answer: SubscribeAnswer = {
      channel,
      next: channel === 'email' ? 'confirm_email' : channel === 'sms' ? 'enter_code' : 'answer_ping',
      address: raw.trim(),
    };
    // An address that asks too often gets the same answer and no further message (no mail-bombing).
    if (!this.#perAddress.take(`${channel}:${address}`).ok) return answer;

    const secret = await this.#secret.get();
    const now = this.#clock.now();
    try {
      await this.#confirmationTx(channel, address, components, secret, ip, now);
    } catch (err) {
      // The visitor did nothing wrong: an unapproved or broken confirmation template is the
      // operator's to fix (logged), never shown to the public.
      if (err instanceof AppError && err.status === 422 && TEMPLATE_PROBLEMS.has(err.code)) {
        this.#log.error({ err: err.message, channel }, 'subscription confirmation cannot be sent');
        throw new AppError(
          503,
          'subscriptions_unavailable',
          `Subscribing by ${channel} is not available right now; please try again later.`,
        );
      }
      throw err;
    }
    return answer;
  }

  async #confirmationTx(
    channel: SubscriberChannel,
    address: string,
    components: repo.Subscriber['components'],
    secret: string,
    ip: string | null,
    now: number,
  ): Promise<void> {
    await this.#db.tx(async (trx) => {
      const existing = await repo.findByAddress(trx, channel, address);
      if (existing?.state === 'confirmed') return;
      const id = existing?.id ?? newId(now);
      const ipHash = hashIp(secret, ip);
      if (channel === 'email') {
        const { token, hash } = newLinkToken();
        await repo.upsertPending(trx, {
          id,
          channel,
          address,
          components,
          secretHash: hash,
          expiresAt: now + EMAIL_CONFIRM_MS,
          ipHash,
          now,
        });
        await this.#outbox.dispatch(trx, {
          templateKey: CONFIRM_TEMPLATE,
          recipients: [{ address, ref: `subscriber:${id}` }],
          variables: { ...this.#variables(), confirm_url: `${this.#options.publicUrl}/status/subscribe/confirm?token=${token}` },
          step: `subscribe:${hash.slice(0, 16)}`,
        });
      } else if (channel === 'sms') {
        const code = newSmsCode();
        const hash = hashSmsCode(secret, id, code);
        await repo.upsertPending(trx, {
          id,
          channel,
          address,
          components,
          secretHash: hash,
          expiresAt: now + SMS_CODE_MS,
          ipHash,
          now,
        });
        await this.#outbox.dispatch(trx, {
          templateKey: CODE_TEMPLATE,
          recipients: [{ address, ref: `subscriber:${id}` }],
          variables: { ...this.#variables(), code },
          step: `subscribe:${hash.slice(0, 16)}`,
        });
      } else {
        await repo.upsertPending(trx, { id, channel, address, components, secretHash: null, expiresAt: null, ipHash, now });
        await this.#jobs.enqueue(trx, {
          kind: WEBHOOK_CONFIRM_JOB,
          payload: { subscriberId: id },
          key: `${WEBHOOK_CONFIRM_JOB}:${id}:${now}`,
        });
      }
    });
  }

  /** What the confirmation page shows for an emailed link (nothing changes by looking). */
  async inspectEmailToken(token: string): Promise<{ valid: boolean; address?: string }> {
    const row = await repo.findBySecretHash(this.#db.kysely, 'email', hashLinkToken(token));
    if (row?.state !== 'pending' || row.secretExpiresAt === null || row.secretExpiresAt < this.#clock.now()) {
      return { valid: false };
    }
    return { valid: true, address: row.address };
  }

  /** Confirm an email subscription with the token of its link (the page's button POSTs here). */
  async confirmEmail(token: string): Promise<boolean> {
    const now = this.#clock.now();
    return this.#db.tx(async (trx) => {
      const row = await repo.findBySecretHash(trx, 'email', hashLinkToken(token));
      if (row?.state !== 'pending' || row.secretExpiresAt === null || row.secretExpiresAt < now) return false;
      return repo.confirm(trx, row.id, now);
    });
  }

  /**
   * Confirm an SMS subscription with its code. Wrong, expired and unknown all answer alike; the
   * fifth wrong code locks the code (subscribe again for a new one).
   */
  async confirmSms(phone: string, code: string): Promise<'confirmed' | 'wrong' | 'locked' | 'expired'> {
    const address = normalizeSubscriberAddress('sms', phone, 'phone');
    const digits = code.replace(/\s/g, '');
    if (!/^\d{6}$/.test(digits))
      throw unprocessable('invalid_field', 'code: expected the 6 digits from the text message', { field: 'code' });
    const secret = await this.#secret.get();
    const now = this.#clock.now();
    return this.#db.tx(async (trx) => {
      const row = await repo.findByAddress(trx, 'sms', address);
      if (!row) return 'wrong';
      const outcome = checkSmsCode({
        state: row.state,
        storedHash: row.secretHash,
        expiresAt: row.secretExpiresAt,
        attempts: row.attempts,
        givenHash: hashSmsCode(secret, row.id, digits),
        now,
      });
      if (outcome === 'confirmed') {
        await repo.confirm(trx, row.id, now);
        return 'confirmed';
      }
      if (outcome === 'wrong' || outcome === 'locked') {
        if (row.secretHash !== null) await repo.recordWrongCode(trx, row.id, outcome === 'locked', now);
        return outcome;
      }
      return outcome === 'expired' ? 'expired' : 'wrong';
    });
  }

  /** The signed unsubscribe link of one subscription (webhook payloads; usable for any channel). */
  async unsubscribeUrl(subscriberId: string): Promise<string> {
    const token = signToken(await this.#secret.get(), { k: 'subscriber', s: subscriberId });
    return `${this.#options.publicUrl}/status/unsubscribe?token=${encodeURIComponent(token)}`;
  }

  async readUnsubscribeToken(token: string): Promise<repo.Subscriber | null> {
    const claim = verifyToken<Record<string, unknown>>(await this.#secret.get(), token);
    if (claim?.k !== 'subscriber' || typeof claim.s !== 'string') return null;
    return (await repo.findSubscriber(this.#db.kysely, claim.s)) ?? null;
  }

  async unsubscribe(subscriberId: string): Promise<void> {
    const now = this.#clock.now();
    await this.#db.tx((trx) => repo.unsubscribe(trx, subscriberId, now));
  }

  async list(filter: {
    channel?: SubscriberChannel | undefined;
    state?: SubscriberState | undefined;
    limit: number;
    offset: number;
  }) {
    const now = this.#clock.now();
    // Opt-outs made elsewhere (one-click unsubscribe, STOP) show here at once.
    await this.#db.tx((trx) => repo.applyOptOuts(trx, now));
    const [rows, counts] = await Promise.all([
      repo.listSubscribers(this.#db.kysely, filter),
      repo.countSubscribers(this.#db.kysely),
    ]);
    return { subscribers: rows.map(toView), counts };
  }

  async remove(actor: Actor, id: string): Promise<void> {
    const now = this.#clock.now();
    await this.#db.tx(async (trx) => {
      const row = await repo.findSubscriber(trx, id);
      if (!row) throw notFound('Subscriber', id);
      await repo.deleteSubscriber(trx, id);
      await recordAudit(trx, {
        at: now,
        actor,
        action: 'subscriber.delete',
        target: { type: 'subscriber', id },
        details: { channel: row.channel, state: row.state },
      });
    });
  }

  /** The incident hook: every public update queues one fan-out job, in the update's transaction. */
  async onIncidentChange(trx: Executor, change: IncidentChange): Promise<void> {
    if (change.type !== 'update') return;
    await this.#jobs.enqueue(trx, {
      kind: NOTIFY_JOB,
      payload: { incidentId: change.incidentId, eventId: change.eventId },
      key: `${NOTIFY_JOB}:${change.eventId}`,
    });
  }

  jobHandlers(): JobHandler[] {
    return [
      defineJob({
        kind: NOTIFY_JOB,
        payload: z.object({ incidentId: z.string(), eventId: z.string() }),
        run: async (payload, ctx) => {
          const result = await this.fanOut(payload.incidentId, payload.eventId);
          ctx.log.info({ ...payload, ...result }, 'status update fanned out to subscribers');
        },
      }),
      defineJob({
        kind: WEBHOOK_CONFIRM_JOB,
        payload: z.object({ subscriberId: z.string() }),
        backoff: { baseMs: 10_000, maxMs: 30 * 60_000 },
        run: async (payload, ctx) => this.#confirmWebhook(payload.subscriberId, ctx.signal),
      }),
      defineJob({
        kind: WEBHOOK_UPDATE_JOB,
        payload: z.object({ subscriberId: z.string(), incidentId: z.string(), eventId: z.string() }),
        backoff: { baseMs: 10_000, maxMs: 30 * 60_000 },
        run: async (payload, ctx) => this.#deliverWebhook(payload, ctx.signal),
      }),
    ];
  }

  /**
   * Queue one message per confirmed subscriber concerned by an update: email and SMS through the
   * outbox (keyed per event and address, so a re-run sends nothing twice), webhooks as one signed
   * delivery job each (keyed per event and subscriber). Pages of subscribers, set-based inserts.
   */
  async fanOut(incidentId: string, eventId: string): Promise<{ email: number; sms: number; webhook: number }> {
    const ex = this.#db.kysely;
    const incident = await findIncident(ex, incidentId);
    const event = incident ? (await listEvents(ex, [incidentId], { publicOnly: true })).find((e) => e.id === eventId) : undefined;
    const counts = { email: 0, sms: 0, webhook: 0 };
    if (!incident || !event) return counts;
    const update = event.data as unknown as PublishedUpdate;
    const affected = (update.affected_components ?? []).map((c) => c.id);
    const incidentComponents = (await listIncidentComponents(ex, [incidentId])).map((c) => c.componentId);
    const names = new Map((await listComponents(ex)).map((c) => [c.id, c.name]));
    const shown = affected.length > 0 ? affected : incidentComponents;
    const variables = {
      ...this.#variables(),
      incident_name: incident.name,
      status: update.status,
      message: update.message,
      components: shown.length > 0 ? shown.map((id) => names.get(id) ?? id).join(', ') : 'no specific component',
      status_page_url: this.statusPageUrl,
    };
    const step = `update:${eventId}`;
    const problems: string[] = [];
    await this.#db.tx((trx) => repo.applyOptOuts(trx, this.#clock.now()));

    let after = '';
    for (;;) {
      const page = await repo.confirmedPage(ex, after, FANOUT_PAGE);
      if (page.length === 0) break;
      after = (page[page.length - 1] as (typeof page)[number]).id;
      const wanted = page.filter((s) => wantsUpdate(s.components, affected, incidentComponents));
      const byChannel = (channel: SubscriberChannel) => wanted.filter((s) => s.channel === channel);
      await this.#db.tx(async (trx) => {
        for (const [channel, templateKey] of [
          ['email', EMAIL_UPDATE_TEMPLATE],
          ['sms', SMS_UPDATE_TEMPLATE],
        ] as const) {
          const recipients: Recipient[] = byChannel(channel).map((s) => ({ address: s.address, ref: `subscriber:${s.id}` }));
          if (recipients.length === 0) continue;
          try {
            const result = await this.#outbox.dispatch(trx, {
              templateKey,
              recipients,
              variables,
              incidentId,
              step,
              drill: incident.drill,
            });
            counts[channel] += result.created;
          } catch (err) {
            // A template not approved (or not rendering) stops that channel only; the job reports it.
            if (!(err instanceof AppError) || err.status >= 500) throw err;
            problems.push(`${channel}: ${err.message}`);
          }
        }
        // Drills never leave the machine: webhook subscribers are real receivers.
        const hooks = incident.drill ? [] : byChannel('webhook');
        counts.webhook += await this.#jobs.enqueueMany(
          trx,
          hooks.map((s) => ({
            kind: WEBHOOK_UPDATE_JOB,
            payload: { subscriberId: s.id, incidentId, eventId },
            key: `${WEBHOOK_UPDATE_JOB}:${eventId}:${s.id}`,
            bulk: true,
          })),
        );
      });
      if (page.length < FANOUT_PAGE) break;
    }
    if (problems.length > 0) throw new PermanentError(`not every channel could be sent: ${[...new Set(problems)].join('; ')}`);
    return counts;
  }

  async #signedPost(subscriberId: string, url: string, key: string, body: Record<string, unknown>, signal: AbortSignal) {
    const secret = webhookSecretFor(await this.#secret.get(), subscriberId);
    const text = JSON.stringify(body);
    const headers = webhookHeaders({
      id: webhookMessageId(key),
      timestamp: Math.floor(this.#clock.now() / 1000),
      body: text,
      secret,
    });
    let status: number;
    try {
      status = await this.#post(url, { headers, body: text, signal });
    } catch (err) {
      throw new TransientError(`webhook ${new URL(url).host}: ${errorMessage(err)}`, { cause: err });
    }
    return status;
  }

  async #confirmWebhook(subscriberId: string, signal: AbortSignal): Promise<undefined> {
    const row = await repo.findSubscriber(this.#db.kysely, subscriberId);
    if (row?.state !== 'pending' || row.channel !== 'webhook') return undefined;
    assertPostable(row.address);
    const secret = webhookSecretFor(await this.#secret.get(), subscriberId);
    const status = await this.#signedPost(
      subscriberId,
      row.address,
      `confirm:${subscriberId}:${row.updatedAt}`,
      {
        type: 'subscription.confirm',
        data: {
          subscriber_id: subscriberId,
          page: { name: this.#options.pageName, url: this.statusPageUrl },
          components: row.components,
          /** Verify every later delivery with this Standard Webhooks secret. */
          secret,
          unsubscribe: await this.unsubscribeUrl(subscriberId),
        },
      },
      signal,
    );
    if (status >= 200 && status < 300) {
      const now = this.#clock.now();
      await this.#db.tx((trx) => repo.confirm(trx, subscriberId, now));
      return undefined;
    }
    if (status >= 500 || status === 408 || status === 429) throw new TransientError(`confirmation ping answered ${status}`);
    throw new PermanentError(`confirmation ping answered ${status}: the subscription stays unconfirmed`);
  }

  async #deliverWebhook(
    payload: { subscriberId: string; incidentId: string; eventId: string },
    signal: AbortSignal,
  ): Promise<undefined> {
    const ex = this.#db.kysely;
    const row = await repo.findSubscriber(ex, payload.subscriberId);
    if (row?.state !== 'confirmed' || row.channel !== 'webhook') return undefined;
    assertPostable(row.address);
    const incident = await findIncident(ex, payload.incidentId);
    const event = (await listEvents(ex, [payload.incidentId], { publicOnly: true })).find((e) => e.id === payload.eventId);
    if (!incident || !event) return undefined;
    const update = event.data as unknown as PublishedUpdate;
    const body = buildWebhookUpdate({
      page: { id: 'keepwarm', name: this.#options.pageName, url: this.statusPageUrl },
      incident: {
        id: incident.id,
        name: incident.name,
        status: incident.status,
        impact: incident.impact,
        createdAt: toIso(incident.declaredAt),
        updatedAt: toIso(incident.updatedAt),
        shortlink: this.statusPageUrl,
      },
      update: { id: event.id, status: update.status, body: update.message, createdAt: toIso(event.at) },
      components: (update.affected_components ?? []).map((c) => ({
        id: c.id,
        name: c.name,
        status: c.new_status,
        oldStatus: c.old_status,
      })),
      unsubscribeUrl: await this.unsubscribeUrl(row.id),
    });
    const status = await this.#signedPost(
      row.id,
      row.address,
      `${WEBHOOK_UPDATE_JOB}:${payload.eventId}:${row.id}`,
      body,
      signal,
    );
    if (status >= 200 && status < 300) return undefined;
    if (status === 410) {
      // The receiver says it is gone for good: stop sending (Statuspage-style webhooks do the same).
      await this.unsubscribe(row.id);
      return undefined;
    }
    if (status >= 500 || status === 408 || status === 429) throw new TransientError(`webhook answered ${status}`);
    throw new PermanentError(`webhook answered ${status}`);
  }
}

function resolveChannel(input: SubscribeInput): SubscriberChannel {
  if (input.channel !== undefined) {
    if (!(SUBSCRIBER_CHANNELS as readonly string[]).includes(input.channel)) {
      throw unprocessable('invalid_field', 'channel: expected email, sms or webhook', { field: 'channel' });
    }
    return input.channel as SubscriberChannel;
  }
  if (input.email !== undefined) return 'email';
  if (input.phone !== undefined) return 'sms';
  if (input.url !== undefined) return 'webhook';
  throw unprocessable('invalid_field', 'channel: expected email, sms or webhook', { field: 'channel' });
}

/** The address rule again at send time (an old row, a changed rule): never post plain http off the machine. */
function assertPostable(address: string): void {
  const url = new URL(address);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    throw new PermanentError('webhook URL is not https');
  }
}

function toView(s: repo.Subscriber): SubscriberView {
  return {
    id: s.id,
    channel: s.channel,
    address: s.address,
    components: s.components,
    state: s.state,
    created_at: toIso(s.createdAt),
    confirmed_at: s.confirmedAt === null ? null : toIso(s.confirmedAt),
    unsubscribed_at: s.unsubscribedAt === null ? null : toIso(s.unsubscribedAt),
  };
}
