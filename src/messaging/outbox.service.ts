import type { Logger } from 'pino';
import { z } from 'zod';
import type { InstallationSecret } from '../app/secret.js';
import type { Bus } from '../core/bus.js';
import { type Clock, DAY } from '../core/clock.js';
import { AppError, errorMessage, TransientError, unprocessable } from '../core/errors.js';
import { RateLimiter } from '../core/rate-limit.js';
import type { Database, Executor } from '../db/database.js';
import type { JobQueue } from '../db/jobs/job-queue.js';
import type { Job } from '../db/jobs/jobs.js';
import { type BatchContext, type BatchItem, type BatchOutcome, defineJob, type JobHandler } from '../db/jobs/worker.js';
import { findInboundByProviderId } from './inbound/inbound.repo.js';
import * as repo from './messages.repo.js';
import {
  type Consent,
  consentRefusal,
  FINAL_STATUSES,
  isBulkChannel,
  isOutbound,
  isValidTimeZone,
  localParts,
  type OutboundChannel,
  quietHoursDeferral,
} from './messaging.js';
import { type OutboundMessage, type Provider, ProviderError, warrantsFailover } from './providers/provider.js';
import type { ProviderRegistry } from './providers/registry.js';
import { addSuppression, normalizeAddress, suppressedAmong } from './suppressions.repo.js';
import type { ApprovedTemplate, TemplateSource } from './templates.contract.js';
import { unsubscribeUrl } from './unsubscribe.js';

export const DELIVER_JOB = 'messaging.deliver';

export interface Recipient {
  /** Email address, E.164 phone number, or the target name for slack/social/webhook. */
  address: string;
  name?: string | undefined;
  /** The lead, subscriber or user this is for. */
  ref?: string | undefined;
  timezone?: string | undefined;
  consent?: Consent | undefined;
  /** Per-recipient template variables (first_name, company, …). */
  variables?: Record<string, unknown> | undefined;
}

export interface DispatchRequest {
  templateKey: string;
  locale?: string | undefined;
  recipients: readonly Recipient[];
  /** Facts shared by every recipient (incident, status, fallback URL, …). */
  variables?: Record<string, unknown> | undefined;
  incidentId?: string | null | undefined;
  /** Which step of a sequence or cadence this is: part of the idempotency key. */
  step: string;
  drill?: boolean | undefined;
  /** Deliver no earlier than this (a sequence step). */
  runAt?: number | undefined;
  /**
   * Extra facts kept on each message (not from the API). `reply_to_inbound: <provider message id>`
   * marks the answer to an inbound STOP or HELP text (see #answersKeyword).
   */
  metadata?: Record<string, unknown> | undefined;
}

export interface DispatchResult {
  channel: OutboundChannel;
  templateVersionId: string;
  /** Messages created now; the others existed already (same idempotency key). */
  created: number;
  existing: number;
  messageIds: string[];
}

export interface OutboxOptions {
  publicUrl: string;
  postalAddress: string | undefined;
  quietHoursStart: string;
  quietHoursEnd: string;
  defaultTimezone: string;
  variables: Record<string, string>;
  emailPerSecond: number;
  smsPerSenderPerSecond: number;
  /** Give up on one provider attempt after this long. */
  sendTimeoutMs: number;
}

/** The idempotency key of a message: incident + channel + recipient + template + step. */
export function messageKey(input: {
  incidentId: string | null | undefined;
  channel: OutboundChannel;
  address: string;
  templateKey: string;
  step: string;
}): string {
  const address =
    input.channel === 'email' || input.channel === 'sms' ? normalizeAddress(input.channel, input.address) : input.address;
  return [input.incidentId ?? '-', input.channel, address, input.templateKey, input.step].join('|');
}

/**
 * The durable outbox: messages are rendered and written with their delivery jobs in the caller's
 * transaction, then delivered exactly once per idempotency key through the channel's providers,
 * with consent, suppression, quiet hours, rate limits and failover applied at delivery time.
 */
export class OutboxService {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #bus: Bus;
  readonly #jobs: JobQueue;
  readonly #templates: TemplateSource;
  readonly #providers: ProviderRegistry;
  readonly #secret: InstallationSecret;
  readonly #log: Logger;
  readonly #options: OutboxOptions;
  readonly #buckets = new Map<string, RateLimiter>();

  constructor(deps: {
    db: Database;
    clock: Clock;
    bus: Bus;
    jobs: JobQueue;
    templates: TemplateSource;
    providers: ProviderRegistry;
    secret: InstallationSecret;
    log: Logger;
    options: OutboxOptions;
  }) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#bus = deps.bus;
    this.#jobs = deps.jobs;
    this.#templates = deps.templates;
    this.#providers = deps.providers;
    this.#secret = deps.secret;
    this.#log = deps.log;
    this.#options = deps.options;
  }

  get providers(): ProviderRegistry {
    return this.#providers;
  }

  /**
   * Render an approved template for every recipient and queue the messages, inside `trx`. A
   * recipient whose rendering fails (a missing variable) fails the whole dispatch, naming the
   * recipient and the variable, so nothing is half-sent.
   */
  async dispatch(trx: Executor, request: DispatchRequest): Promise<DispatchResult> {
    const template = await this.#templates.requireApproved(trx, request.templateKey, request.locale);
    if (!isOutbound(template.channel)) {
      throw unprocessable(
        'not_sendable',
        `Template ${template.key} is for the ${template.channel} channel, which is shown, not sent.`,
        { template: template.key },
      );
    }
    const channel = template.channel;
    const secret = await this.#secret.get();
    const now = this.#clock.now();
    const messages: repo.NewMessage[] = request.recipients.map((recipient, index) =>
      this.#compose(template, channel, recipient, index, request, secret),
    );
    const created = await repo.insertMessages(trx, now, messages);
    await this.#jobs.enqueueMany(
      trx,
      [...created.values()].map((id) => ({
        kind: DELIVER_JOB,
        payload: { messageId: id },
        key: `${DELIVER_JOB}:${id}`,
        bulk: isBulkChannel(channel),
        ...(request.runAt !== undefined && { runAt: request.runAt }),
      })),
    );
    return {
      channel,
      templateVersionId: template.versionId,
      created: created.size,
      existing: messages.length - created.size,
      messageIds: [...created.values()],
    };
  }

  #compose(
    template: ApprovedTemplate,
    channel: OutboundChannel,
    recipient: Recipient,
    index: number,
    request: DispatchRequest,
    secret: string,
  ): repo.NewMessage {
    const timezone = recipient.timezone ?? this.#options.defaultTimezone;
    if (!isValidTimeZone(timezone)) {
      throw unprocessable(
        'invalid_timezone',
        `Recipient ${index + 1} (${recipient.address}): unknown time zone ${JSON.stringify(timezone)}.`,
        {
          field: `recipients.${index}.timezone`,
        },
      );
    }
    const key = messageKey({
      incidentId: request.incidentId,
      channel,
      address: recipient.address,
      templateKey: template.key,
      step: request.step,
    });
    const unsubscribe =
      channel === 'email'
        ? unsubscribeUrl(this.#options.publicUrl, secret, {
            c: 'email',
            a: normalizeAddress('email', recipient.address),
            // A drill's message goes to the sinks only; whoever opens it there must not unsubscribe the real lead.
            ...(request.drill && { d: 1 }),
          })
        : undefined;
    const variables = {
      ...this.#options.variables,
      ...request.variables,
      ...recipient.variables,
      ...(unsubscribe && { unsubscribe_url: unsubscribe }),
    };
    const footer =
      channel === 'email' && template.purpose === 'marketing' && unsubscribe
        ? { unsubscribeUrl: unsubscribe, postalAddress: this.#requirePostalAddress(template) }
        : undefined;
    let rendered: ReturnType<TemplateSource['render']>;
    try {
      rendered = this.#templates.render(template, variables, footer);
    } catch (err) {
      if (err instanceof AppError) {
        throw new AppError(err.status, err.code, `Recipient ${index + 1} (${recipient.address}): ${err.message}`, {
          recipient: index,
          address: recipient.address,
          ...(typeof err.details === 'object' && !Array.isArray(err.details) ? err.details : { problems: err.details }),
        });
      }
      throw err;
    }
    return {
      idempotencyKey: key,
      incidentId: request.incidentId ?? null,
      channel,
      purpose: template.purpose,
      templateKey: template.key,
      templateVersionId: template.versionId,
      recipient: recipient.address,
      recipientName: recipient.name ?? null,
      recipientRef: recipient.ref ?? null,
      timezone,
      drill: request.drill ?? false,
      subject: rendered.subject ?? null,
      bodyText: rendered.text,
      bodyHtml: rendered.html ?? null,
      metadata: {
        ...request.metadata,
        step: request.step,
        ...(recipient.consent && { consent: recipient.consent }),
        ...(unsubscribe && { unsubscribe_url: unsubscribe }),
      },
    };
  }

  #requirePostalAddress(template: ApprovedTemplate): string {
    if (!this.#options.postalAddress) {
      throw unprocessable(
        'postal_address_missing',
        `Template ${template.key} is marketing email, which must carry a postal address: set messaging.postalAddress (KEEPWARM_POSTAL_ADDRESS).`,
        { setting: 'messaging.postalAddress' },
      );
    }
    return this.#options.postalAddress;
  }

  /**
   * The delivery job, one per message. The worker hands every claimed delivery job to
   * #deliverBatch at once: messages are read, checked and recorded in a few set-based statements,
   * and sent concurrently through their providers; each message keeps its own outcome, retries
   * and backoff.
   */
  deliverJob(): JobHandler {
    return defineJob({
      kind: DELIVER_JOB,
      payload: z.object({ messageId: z.string() }),
      backoff: { baseMs: 5_000, maxMs: 30 * 60_000 },
      run: async (payload, ctx) => {
        const outcomes = await this.#deliverBatch([{ job: ctx.job, payload }], {
          signal: ctx.signal,
          clock: ctx.clock,
          log: ctx.log,
          transaction: (fn) => ctx.transaction(fn),
        });
        const outcome = outcomes.get(ctx.job.id);
        if (outcome && 'error' in outcome) throw outcome.error;
        return outcome;
      },
      runBatch: (items, ctx) => this.#deliverBatch(items, ctx),
      onDead: async (payload, _ctx, error) => {
        const now = this.#clock.now();
        await this.#db.tx((trx) => repo.updateMessage(trx, payload.messageId, { status: 'dead', statusReason: error, now }));
        this.#bus.emit('message.changed', payload.messageId);
      },
    });
  }

  async #deliverBatch(items: Array<BatchItem<{ messageId: string }>>, ctx: BatchContext): Promise<Map<string, BatchOutcome>> {
    const db = this.#db.kysely;
    const now = this.#clock.now();
    const outcomes = new Map<string, BatchOutcome>();
    const messages = await repo.findMessagesByIds(
      db,
      items.map((i) => i.payload.messageId),
    );
    const suppressed = new Map<string, Set<string>>();
    for (const channel of ['email', 'sms'] as const) {
      const addresses = [...messages.values()].filter((m) => m.channel === channel).map((m) => m.recipient);
      if (addresses.length > 0) suppressed.set(channel, await suppressedAmong(db, channel, addresses));
    }

    const done: Job[] = [];
    const updates: Array<{ id: string; patch: Omit<Parameters<typeof repo.updateMessage>[2], 'now'> }> = [];
    const attempts: Array<Omit<repo.Attempt, 'id'>> = [];
    const suppressions: Array<{ channel: 'email' | 'sms'; address: string; reason: string; source: string }> = [];
    const sendable: Array<{ job: Job; message: repo.Message; chain: Provider[]; outbound: OutboundMessage }> = [];

    for (const { job, payload } of items) {
      const message = messages.get(payload.messageId);
      if (!message || FINAL_STATUSES.has(message.status)) {
        done.push(job);
        continue;
      }
      const isSuppressedNow =
        (message.channel === 'email' || message.channel === 'sms') &&
        (suppressed.get(message.channel)?.has(normalizeAddress(message.channel, message.recipient)) ?? false);
      const refusal =
        isSuppressedNow && (await this.#answersKeyword(message, now))
          ? null
          : consentRefusal({
              channel: message.channel,
              purpose: message.purpose,
              consent: message.metadata.consent as Consent | undefined,
              suppressed: isSuppressedNow,
            });
      if (refusal) {
        updates.push({ id: message.id, patch: { status: 'suppressed', statusReason: refusal } });
        done.push(job);
        continue;
      }
      if (message.channel === 'sms' && message.purpose === 'marketing') {
        const tz = message.timezone ?? this.#options.defaultTimezone;
        const deferUntil = quietHoursDeferral(now, tz, this.#options.quietHoursStart, this.#options.quietHoursEnd);
        if (deferUntil !== null) {
          const local = localParts(deferUntil, tz);
          const hhmm = `${String(Math.floor(local.minutes / 60)).padStart(2, '0')}:${String(local.minutes % 60).padStart(2, '0')}`;
          updates.push({ id: message.id, patch: { statusReason: `deferred by quiet hours until ${hhmm} ${tz}` } });
          outcomes.set(job.id, { rescheduleAt: deferUntil });
          continue;
        }
      }
      const chain = this.#providers.chain(message.channel, message.drill);
      if (chain.length === 0) {
        updates.push({
          id: message.id,
          patch: { status: 'failed', statusReason: `no ${message.channel} provider is configured` },
        });
        done.push(job);
        continue;
      }
      const outbound = this.#outbound(message, job.attempts > 1 && message.status === 'sending');
      const wait = this.#rateLimit(chain[0] as Provider, outbound);
      if (wait > 0) {
        outcomes.set(job.id, { rescheduleAt: now + wait });
        continue;
      }
      sendable.push({ job, message, chain, outbound });
    }

    if (sendable.length > 0) {
      await repo.markSending(
        db,
        sendable.map((s) => s.message.id),
        now,
      );
    }
    // Outcomes are recorded in small groups as sends finish, not when the whole batch is done: a
    // message accepted by its provider but not yet recorded is the one a crash would send twice,
    // so that window stays a few milliseconds long.
    const record = new Recorder(this, ctx, FLUSH_AFTER);
    record.add({ updates, attempts, suppressions, done, sent: [] });
    await Promise.all(
      sendable.map(async ({ job, message, chain, outbound }) => {
        const result = await this.#sendThroughChain(message, chain, outbound, ctx.signal);
        const group: RecordGroup = { updates: [], attempts: result.attempts, suppressions: [], done: [], sent: [] };
        if (result.sent) {
          group.sent.push({ id: message.id, ...result.sent });
          group.done.push(job);
        } else {
          const perr = result.error;
          if (perr.kind === 'recipient' || perr.kind === 'permanent') {
            group.updates.push({
              id: message.id,
              patch: { status: 'failed', statusReason: `${perr.code ? `${perr.code}: ` : ''}${perr.message}` },
            });
            if (perr.suppress && (message.channel === 'email' || message.channel === 'sms')) {
              group.suppressions.push({
                channel: message.channel,
                address: message.recipient,
                reason: `provider ${perr.code ?? 'opt-out'}`,
                source: message.id,
              });
            }
            group.done.push(job);
          } else if (perr.kind === 'rate_limited') {
            group.updates.push({ id: message.id, patch: { status: 'queued', statusReason: 'provider asked to slow down' } });
            outcomes.set(job.id, { rescheduleAt: this.#clock.now() + (perr.retryAfterMs ?? 30_000) });
          } else {
            // Back to queued: the attempt is known to have failed (a message left in "sending" is in doubt).
            group.updates.push({ id: message.id, patch: { status: 'queued', statusReason: perr.message } });
            outcomes.set(job.id, {
              error: new TransientError(`every provider failed: ${perr.message}`, { retryAfterMs: perr.retryAfterMs }),
            });
          }
        }
        record.add(group);
      }),
    );
    await record.finish();
    return outcomes;
  }

  /** Write one group of outcomes and finish its jobs, in one transaction. */
  async recordGroup(ctx: BatchContext, group: RecordGroup): Promise<void> {
    const now = this.#clock.now();
    await ctx.transaction(async (trx) => {
      await repo.markSent(trx, group.sent, now);
      for (const u of group.updates) await repo.updateMessage(trx, u.id, { ...u.patch, now });
      await repo.insertAttempts(trx, group.attempts);
      for (const sup of group.suppressions) await addSuppression(trx, { ...sup, at: now });
    }, group.done);
    for (const id of new Set([...group.sent.map((m) => m.id), ...group.updates.map((u) => u.id)])) {
      this.#bus.emit('message.changed', id);
    }
  }

  /** Try each provider of the chain in turn; fail over on connection errors, timeouts and transient codes only. */
  async #sendThroughChain(
    message: repo.Message,
    chain: Provider[],
    outbound: OutboundMessage,
    signal: AbortSignal,
  ): Promise<
    | {
        attempts: Array<Omit<repo.Attempt, 'id'>>;
        sent: { provider: string; providerMessageId: string; status: 'sent' | 'delivered' };
      }
    | { attempts: Array<Omit<repo.Attempt, 'id'>>; sent?: undefined; error: ProviderError }
  > {
    const attempts: Array<Omit<repo.Attempt, 'id'>> = [];
    if (outbound.inDoubt) {
      // A previous attempt stopped mid-send. Ask the provider whether it arrived, where it can tell.
      for (const provider of chain) {
        const found = await provider.lookup?.(outbound, message.updatedAt - 60_000).catch(() => null);
        if (found) {
          attempts.push({
            messageId: message.id,
            at: this.#clock.now(),
            provider: provider.name,
            outcome: 'sent',
            code: null,
            detail: 'found after interruption',
            durationMs: 0,
          });
          return {
            attempts,
            sent: { provider: provider.name, providerMessageId: found.providerMessageId, status: found.status },
          };
        }
      }
    }
    let last: ProviderError | undefined;
    for (const provider of chain) {
      const started = performance.now();
      const timeout = AbortSignal.any([signal, AbortSignal.timeout(this.#options.sendTimeoutMs)]);
      try {
        const result = await provider.send(outbound, timeout);
        attempts.push({
          messageId: message.id,
          at: this.#clock.now(),
          provider: provider.name,
          outcome: 'sent',
          code: null,
          detail: outbound.inDoubt
            ? 'sent again after an interrupted attempt (same idempotency key; the first may also have arrived)'
            : (result.detail ?? null),
          durationMs: performance.now() - started,
        });
        return {
          attempts,
          sent: { provider: provider.name, providerMessageId: result.providerMessageId, status: result.status },
        };
      } catch (err) {
        last = err instanceof ProviderError ? err : new ProviderError('transient', errorMessage(err), { cause: err });
        attempts.push({
          messageId: message.id,
          at: this.#clock.now(),
          provider: provider.name,
          outcome: last.kind,
          code: last.code ?? null,
          detail: last.message,
          durationMs: performance.now() - started,
        });
        if (!warrantsFailover(last)) break;
      }
    }
    return { attempts, error: last ?? new ProviderError('permanent', 'no provider to try') };
  }

  /**
   * The one message that may reach a number that opted out: the transactional answer to the STOP
   * (the confirmation carriers expect) or HELP text that number itself sent, within a day. The
   * inbound text must exist (only signature-verified webhooks record them) and come from the
   * same number, so the exception cannot be used to reach anyone else.
   */
  async #answersKeyword(message: repo.Message, now: number): Promise<boolean> {
    const sid = message.metadata.reply_to_inbound;
    if (message.channel !== 'sms' || message.purpose !== 'transactional' || typeof sid !== 'string') return false;
    const inbound = await findInboundByProviderId(this.#db.kysely, sid);
    return (
      inbound !== undefined &&
      (inbound.kind === 'stop' || inbound.kind === 'help') &&
      normalizeAddress('sms', inbound.from) === normalizeAddress('sms', message.recipient) &&
      now - inbound.receivedAt < DAY
    );
  }

  #outbound(message: repo.Message, inDoubt: boolean): OutboundMessage {
    return {
      id: message.id,
      idempotencyKey: message.idempotencyKey,
      channel: message.channel,
      to: message.recipient,
      toName: message.recipientName ?? undefined,
      subject: message.subject ?? undefined,
      text: message.bodyText,
      html: message.bodyHtml ?? undefined,
      purpose: message.purpose,
      unsubscribeUrl: typeof message.metadata.unsubscribe_url === 'string' ? message.metadata.unsubscribe_url : undefined,
      statusCallbackUrl: message.channel === 'sms' ? `${this.#options.publicUrl}/api/v1/hooks/twilio/status` : undefined,
      inDoubt,
      metadata: message.metadata,
    };
  }

  /** Milliseconds to wait for a token of this provider's bucket (0: go now, token taken). */
  #rateLimit(provider: Provider, message: OutboundMessage): number {
    const key = provider.rateKey(message);
    if (key === null) return 0;
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      const perSecond = message.channel === 'sms' ? this.#options.smsPerSenderPerSecond : this.#options.emailPerSecond;
      bucket = new RateLimiter({
        capacity: Math.max(1, Math.ceil(perSecond)),
        perMs: (1000 * Math.max(1, Math.ceil(perSecond))) / perSecond,
        clock: this.#clock,
      });
      this.#buckets.set(key, bucket);
    }
    const decision = bucket.take('tokens');
    return decision.ok ? 0 : Math.max(1, decision.retryAfterMs);
  }
}

/** Outcomes of a batch's messages waiting to be written, and the jobs they finish. */
interface RecordGroup {
  updates: Array<{ id: string; patch: Omit<Parameters<typeof repo.updateMessage>[2], 'now'> }>;
  attempts: Array<Omit<repo.Attempt, 'id'>>;
  suppressions: Array<{ channel: 'email' | 'sms'; address: string; reason: string; source: string }>;
  done: Job[];
  sent: Array<{ id: string; status: 'sent' | 'delivered'; provider: string; providerMessageId: string }>;
}

/** Write outcomes once this many have gathered (or when the batch ends), one transaction at a time. */
const FLUSH_AFTER = 8;

class Recorder {
  #pending: RecordGroup[] = [];
  #count = 0;
  #chain: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | null = null;
  #failure: unknown = null;

  constructor(
    private readonly outbox: OutboxService,
    private readonly ctx: BatchContext,
    private readonly threshold: number,
  ) {}

  add(group: RecordGroup): void {
    this.#pending.push(group);
    this.#count += group.done.length + group.updates.length;
    if (this.#count >= this.threshold) this.#flush();
    else this.#timer ??= setTimeout(() => this.#flush(), 20);
  }

  #flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const groups = this.#pending.splice(0);
    this.#count = 0;
    if (groups.length === 0) return;
    const merged: RecordGroup = {
      updates: groups.flatMap((g) => g.updates),
      attempts: groups.flatMap((g) => g.attempts),
      suppressions: groups.flatMap((g) => g.suppressions),
      done: groups.flatMap((g) => g.done),
      sent: groups.flatMap((g) => g.sent),
    };
    this.#chain = this.#chain
      .then(() => this.outbox.recordGroup(this.ctx, merged))
      .catch((err: unknown) => {
        this.#failure ??= err;
      });
  }

  /** Write what is left; rethrow the first failure (the worker then retries the unfinished jobs). */
  async finish(): Promise<void> {
    this.#flush();
    await this.#chain;
    if (this.#failure) throw this.#failure;
  }
}
