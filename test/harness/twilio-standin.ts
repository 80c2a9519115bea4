import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { computeTwilioSignature } from '../../src/messaging/inbound/twilio-signature.js';

/**
 * A stand-in for Twilio's Messages REST API (2010-04-01) on loopback, for tests and benchmarks:
 *
 *   POST /2010-04-01/Accounts/{AccountSid}/Messages.json   form: To, From | MessagingServiceSid, Body, StatusCallback
 *   GET  /2010-04-01/Accounts/{AccountSid}/Messages.json   filters: To, From, DateSent, DateSent<, DateSent>, PageSize, Page
 *   GET  /2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json
 *
 * HTTP basic auth AccountSid:AuthToken (401, Twilio error 20003, otherwise); errors in Twilio's
 * shape {code, message, more_info, status}. Every request is recorded; faults are scripted; status
 * callbacks are sent on demand (or automatically), signed with X-Twilio-Signature.
 *
 *   const twilio = await startTwilioStandin();
 *   config: { twilio: { ...twilio.config() } }           // accountSid, authToken, baseUrl, from
 *   twilio.failNext(429, { retryAfter: '3' });
 *   twilio.rejectNumber('+15005550009', 21610);
 *   await twilio.sendStatusCallbacks(sid, ['sent', 'delivered']);
 *   await twilio.close();
 */

export interface TwilioStandinAccount {
  accountSid: string;
  authToken: string;
  /** The sender number the account owns (used by config()). */
  from: string;
}

export interface TwilioMessageResource {
  account_sid: string;
  api_version: '2010-04-01';
  body: string;
  date_created: string;
  date_sent: string | null;
  date_updated: string;
  direction: 'outbound-api';
  error_code: number | null;
  error_message: string | null;
  from: string | null;
  messaging_service_sid: string | null;
  num_media: string;
  num_segments: string;
  price: string | null;
  price_unit: string;
  sid: string;
  status: string;
  subresource_uris: { media: string; feedback: string };
  to: string;
  uri: string;
}

export interface StoredTwilioMessage {
  resource: TwilioMessageResource;
  statusCallback: string | null;
  createdAt: number;
  sentAt: number | null;
}

export interface RecordedTwilioRequest {
  at: number;
  method: string;
  path: string;
  query: Record<string, string>;
  form: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  /** Basic auth credentials sent, if any. */
  auth: { user: string; password: string } | null;
  /** The status answered, or 'dropped'. */
  outcome: number | 'dropped';
}

export interface RecordedCallback {
  at: number;
  url: string;
  params: Record<string, string>;
  signature: string;
  /** The HTTP status the receiver answered (0: unreachable). */
  responseStatus: number;
}

type FaultAction =
  | { type: 'status'; status: number; retryAfter?: string | undefined; code?: number | undefined; message?: string | undefined }
  | { type: 'drop'; afterCreate: boolean }
  | { type: 'delay'; ms: number };

interface Fault {
  /** Only POSTs to this number (undefined: every create request; lookups are never faulted unless `lookups`). */
  to?: string | undefined;
  lookups?: boolean | undefined;
  action: FaultAction;
  remaining: number;
}

/** Twilio's texts for the error codes the stand-in produces (https://www.twilio.com/docs/api/errors). */
export const TWILIO_ERRORS: Record<number, { status: number; message: string }> = {
  20003: { status: 401, message: 'Authenticate' },
  20404: { status: 404, message: 'The requested resource was not found' },
  20429: { status: 429, message: 'Too Many Requests' },
  21211: { status: 400, message: "Invalid 'To' Phone Number" },
  21408: { status: 400, message: "Permission to send an SMS has not been enabled for the region indicated by the 'To' number" },
  21602: { status: 400, message: 'Message body is required.' },
  21603: { status: 400, message: "A 'From' phone number is required." },
  21604: { status: 400, message: "A 'To' phone number is required." },
  21606: {
    status: 400,
    message: "The 'From' phone number provided is not a valid message-capable Twilio phone number for this destination/account",
  },
  21610: { status: 400, message: 'Attempt to send to unsubscribed recipient' },
  21612: { status: 400, message: "The 'To' phone number is not currently reachable via SMS" },
  21614: { status: 400, message: "'To' number is not a valid mobile number" },
  21617: { status: 400, message: 'The concatenated message body exceeds the 1600 character limit.' },
};

const GSM7 =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM7_EXTENDED = '^{}\\[~]|€\f';

/** SMS segments of a body: GSM-7 160 / 153 per part (extension characters count 2), else UCS-2 70 / 67. */
export function countSegments(body: string): number {
  let septets = 0;
  let gsm = true;
  for (const ch of body) {
    if (GSM7.includes(ch)) septets += 1;
    else if (GSM7_EXTENDED.includes(ch)) septets += 2;
    else {
      gsm = false;
      break;
    }
  }
  if (gsm) return septets <= 160 ? 1 : Math.ceil(septets / 153);
  const units = body.length; // UTF-16 code units
  return units <= 70 ? 1 : Math.ceil(units / 67);
}

/** RFC 2822 date as Twilio writes it: "Thu, 24 Aug 2023 05:01:45 +0000". */
export function rfc2822(ms: number): string {
  return new Date(ms).toUTCString().replace(/GMT$/, '+0000');
}

function newSid(prefix: string): string {
  return `${prefix}${randomBytes(16).toString('hex')}`;
}

export function newAccountSid(): string {
  return newSid('AC');
}

const FINAL_ORDER = ['accepted', 'queued', 'sending', 'sent', 'delivered', 'undelivered', 'failed', 'read'];

export interface TwilioStandinOptions {
  accounts?: TwilioStandinAccount[];
  port?: number;
  /**
   * Messages count as sent (status "sent", date_sent set) as soon as they are created (default
   * true); the create answer still says "queued", as Twilio's does. With false they stay queued
   * with no date_sent until a status callback moves them, and a DateSent filter does not list them.
   */
  autoSend?: boolean;
  /** Send status callbacks for every created message: queued → sent → delivered, or … → failed. */
  autoCallbacks?: false | 'delivered' | 'undelivered' | 'failed';
  now?: () => number;
}

export class TwilioStandin {
  readonly accounts: TwilioStandinAccount[];
  readonly requests: RecordedTwilioRequest[] = [];
  readonly callbacks: RecordedCallback[] = [];
  readonly #messages: StoredTwilioMessage[] = [];
  readonly #bySid = new Map<string, StoredTwilioMessage>();
  #faults: Fault[] = [];
  readonly #numberErrors = new Map<string, { code: number; remaining: number }>();
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #options: TwilioStandinOptions;
  readonly #now: () => number;
  readonly #pending = new Set<Promise<unknown>>();
  port = 0;

  constructor(options: TwilioStandinOptions = {}) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.accounts = options.accounts ?? [
      { accountSid: newAccountSid(), authToken: randomBytes(16).toString('hex'), from: '+15005550006' },
    ];
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) this.#json(res, 500, { code: 20500, message: String(err), more_info: '', status: 500 });
      });
    });
    // Outlive the clients' idle keep-alive (undici: 4 s) so a reused connection is never being closed.
    this.#server.keepAliveTimeout = 65_000;
    this.#server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
  }

  async listen(port = this.#options.port ?? 0): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(port, '127.0.0.1', resolve));
    this.port = (this.#server.address() as AddressInfo).port;
    return this;
  }

  /** http://127.0.0.1:PORT, for config.twilio.baseUrl. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The settings for config.twilio (account `index`, default the first). */
  config(index = 0): { accountSid: string; authToken: string; baseUrl: string; from: string } {
    const account = this.accounts[index];
    if (!account) throw new Error(`no account ${index}`);
    return { accountSid: account.accountSid, authToken: account.authToken, baseUrl: this.url, from: account.from };
  }

  /** Every message created, oldest first. */
  get messages(): StoredTwilioMessage[] {
    return [...this.#messages];
  }

  message(sid: string): StoredTwilioMessage | undefined {
    return this.#bySid.get(sid);
  }

  /** Create requests (POST Messages.json) received, whatever their outcome. */
  get createRequests(): RecordedTwilioRequest[] {
    return this.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/Messages.json'));
  }

  // ---- faults ---------------------------------------------------------------------------------

  /** Answer the next `times` create requests (default 1) with this HTTP status (429 with Retry-After, 500, 503…). */
  failNext(
    status: number,
    options: { times?: number; retryAfter?: string; code?: number; message?: string; to?: string } = {},
  ): void {
    this.#faults.push({
      to: options.to,
      action: { type: 'status', status, retryAfter: options.retryAfter, code: options.code, message: options.message },
      remaining: options.times ?? 1,
    });
  }

  /** Refuse messages to this number with a Twilio error code (21610, 21211, 21614…), as HTTP 400. */
  rejectNumber(to: string, code: number, options: { times?: number } = {}): void {
    this.#numberErrors.set(to, { code, remaining: options.times ?? Number.POSITIVE_INFINITY });
  }

  /**
   * Cut the connection of the next `times` create requests without an answer. `afterCreate`: the
   * message is created first (Twilio has it, the client does not know), the in-doubt case.
   */
  dropNext(options: { times?: number; afterCreate?: boolean } = {}): void {
    this.#faults.push({ action: { type: 'drop', afterCreate: options.afterCreate ?? false }, remaining: options.times ?? 1 });
  }

  /** Answer the next `times` requests (default: all, until cleared) `ms` late; `lookups` includes GETs. */
  slow(ms: number, options: { times?: number; lookups?: boolean } = {}): void {
    this.#faults.push({
      action: { type: 'delay', ms },
      lookups: options.lookups ?? false,
      remaining: options.times ?? Number.POSITIVE_INFINITY,
    });
  }

  clearFaults(): void {
    this.#faults = [];
    this.#numberErrors.clear();
  }

  /** Forget requests, messages, callbacks and faults. */
  reset(): void {
    this.clearFaults();
    this.requests.length = 0;
    this.callbacks.length = 0;
    this.#messages.length = 0;
    this.#bySid.clear();
  }

  #takeFault(kind: FaultAction['type'], to: string | undefined, lookup: boolean): FaultAction | null {
    for (const f of this.#faults) {
      if (f.action.type !== kind || f.remaining <= 0) continue;
      if (lookup && !f.lookups) continue;
      if (f.to !== undefined && f.to !== to) continue;
      f.remaining--;
      if (f.remaining <= 0) this.#faults = this.#faults.filter((x) => x !== f);
      return f.action;
    }
    return null;
  }

  // ---- HTTP -----------------------------------------------------------------------------------

  #json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
      ...headers,
    });
    res.end(text);
  }

  #error(res: ServerResponse, code: number, record: RecordedTwilioRequest, detail?: string, status?: number): void {
    const known = TWILIO_ERRORS[code];
    const httpStatus = status ?? known?.status ?? 400;
    record.outcome = httpStatus;
    this.#json(res, httpStatus, {
      code,
      message: detail ?? known?.message ?? 'Error',
      more_info: `https://www.twilio.com/docs/errors/${code}`,
      status: httpStatus,
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    const form = Object.fromEntries(new URLSearchParams(rawBody));
    const authHeader = req.headers.authorization;
    let auth: RecordedTwilioRequest['auth'] = null;
    if (authHeader?.startsWith('Basic ')) {
      const decoded = Buffer.from(authHeader.slice(6), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      auth = { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    }
    const record: RecordedTwilioRequest = {
      at: this.#now(),
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      form: req.method === 'POST' ? form : {},
      headers: { ...req.headers },
      auth,
      outcome: 0,
    };
    this.requests.push(record);

    const isCreate = req.method === 'POST';
    const delay = this.#takeFault('delay', isCreate ? form.To : undefined, !isCreate);
    if (delay?.type === 'delay') await new Promise((resolve) => setTimeout(resolve, delay.ms));

    const match = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages(?:\/([^/]+))?\.json$/.exec(url.pathname);
    if (!match) {
      this.#error(res, 20404, record, `The requested resource ${url.pathname} was not found`);
      return;
    }
    const accountSid = match[1] ?? '';
    const account = this.accounts.find((a) => a.accountSid === accountSid);
    if (!account || !auth || auth.user !== account.accountSid || auth.password !== account.authToken) {
      res.setHeader('www-authenticate', 'Basic realm="Twilio API"');
      this.#error(res, 20003, record);
      return;
    }
    if (req.method === 'GET' && match[2]) return this.#fetchOne(res, record, account, match[2]);
    if (req.method === 'GET') return this.#list(res, record, account, url);
    if (req.method !== 'POST' || match[2]) {
      this.#error(res, 20004, record, 'Method not allowed', 405);
      return;
    }
    return this.#create(req, res, record, account, form);
  }

  #create(
    req: IncomingMessage,
    res: ServerResponse,
    record: RecordedTwilioRequest,
    account: TwilioStandinAccount,
    form: Record<string, string>,
  ): void {
    const to = form.To;
    const drop = this.#takeFault('drop', to, false);
    if (drop?.type === 'drop' && !drop.afterCreate) {
      record.outcome = 'dropped';
      req.socket.destroy();
      return;
    }
    const status = this.#takeFault('status', to, false);
    if (status?.type === 'status') {
      record.outcome = status.status;
      const code = status.code ?? (status.status === 429 ? 20429 : status.status >= 500 ? 20500 : 21000);
      this.#json(
        res,
        status.status,
        {
          code,
          message: status.message ?? TWILIO_ERRORS[code]?.message ?? (status.status >= 500 ? 'Internal Server Error' : 'Error'),
          more_info: `https://www.twilio.com/docs/errors/${code}`,
          status: status.status,
        },
        status.retryAfter === undefined ? {} : { 'retry-after': status.retryAfter },
      );
      return;
    }
    const invalid = this.#validate(form);
    if (invalid) {
      this.#error(res, invalid.code, record, invalid.detail);
      return;
    }
    const numberError = this.#numberErrors.get(to ?? '');
    if (numberError && numberError.remaining > 0) {
      numberError.remaining--;
      this.#error(res, numberError.code, record);
      return;
    }
    const to164 = to ?? '';
    const body = form.Body ?? '';
    const now = this.#now();
    const sid = newSid('SM');
    const base = `/2010-04-01/Accounts/${account.accountSid}/Messages/${sid}`;
    const resource: TwilioMessageResource = {
      account_sid: account.accountSid,
      api_version: '2010-04-01',
      body,
      date_created: rfc2822(now),
      date_sent: null,
      date_updated: rfc2822(now),
      direction: 'outbound-api',
      error_code: null,
      error_message: null,
      from: form.From ?? null,
      messaging_service_sid: form.MessagingServiceSid ?? null,
      num_media: '0',
      num_segments: form.From ? String(countSegments(body)) : '0',
      price: null,
      price_unit: 'USD',
      sid,
      status: form.From ? 'queued' : 'accepted',
      subresource_uris: { media: `${base}/Media.json`, feedback: `${base}/Feedback.json` },
      to: to164,
      uri: `${base}.json`,
    };
    const stored: StoredTwilioMessage = { resource, statusCallback: form.StatusCallback ?? null, createdAt: now, sentAt: null };
    this.#messages.push(stored);
    this.#bySid.set(sid, stored);
    const answer = { ...resource, subresource_uris: { ...resource.subresource_uris } };
    if (this.#options.autoSend !== false) this.#setStatus(stored, 'sent', now);

    if (drop?.type === 'drop') {
      record.outcome = 'dropped';
      req.socket.destroy();
    } else {
      record.outcome = 201;
      this.#json(res, 201, answer);
    }
    const auto = this.#options.autoCallbacks;
    if (auto && stored.statusCallback) {
      const flow = auto === 'delivered' ? ['queued', 'sent', 'delivered'] : ['queued', 'sent', auto];
      this.#track(this.sendStatusCallbacks(sid, flow, auto === 'delivered' ? {} : { errorCode: 30003 }));
    }
  }

  /** Twilio's checks of a create request, in its order. */
  #validate(form: Record<string, string>): { code: number; detail?: string } | null {
    if (!form.To) return { code: 21604 };
    if (!form.From && !form.MessagingServiceSid) return { code: 21603 };
    if (!form.Body) return { code: 21602 };
    if (!/^\+[1-9]\d{6,14}$/.test(form.To)) return { code: 21211, detail: `Invalid 'To' Phone Number: ${form.To}` };
    if (form.Body.length > 1600) return { code: 21617 };
    return null;
  }

  #setStatus(stored: StoredTwilioMessage, status: string, at: number, errorCode?: number): void {
    const r = stored.resource;
    r.status = status;
    r.date_updated = rfc2822(at);
    if (['sent', 'delivered', 'undelivered', 'read'].includes(status) && stored.sentAt === null) {
      stored.sentAt = at;
      r.date_sent = rfc2822(at);
    }
    if (errorCode !== undefined) {
      r.error_code = errorCode;
      r.error_message = null;
    }
  }

  #fetchOne(res: ServerResponse, record: RecordedTwilioRequest, account: TwilioStandinAccount, sid: string): void {
    const stored = this.#bySid.get(sid);
    if (!stored || stored.resource.account_sid !== account.accountSid) {
      this.#error(res, 20404, record, `The requested resource ${record.path} was not found`);
      return;
    }
    record.outcome = 200;
    this.#json(res, 200, stored.resource);
  }

  #list(res: ServerResponse, record: RecordedTwilioRequest, account: TwilioStandinAccount, url: URL): void {
    const q = url.searchParams;
    const dayStart = (value: string | null) =>
      value && /^\d{4}-\d{2}-\d{2}$/.test(value) ? Date.parse(`${value}T00:00:00Z`) : null;
    const on = dayStart(q.get('DateSent'));
    const onOrBefore = dayStart(q.get('DateSent<'));
    const onOrAfter = dayStart(q.get('DateSent>'));
    const day = 86_400_000;
    const filtered = this.#messages
      .filter((m) => {
        const r = m.resource;
        if (r.account_sid !== account.accountSid) return false;
        if (q.has('To') && r.to !== q.get('To')) return false;
        if (q.has('From') && r.from !== q.get('From')) return false;
        if (on !== null || onOrBefore !== null || onOrAfter !== null) {
          if (m.sentAt === null) return false;
          if (on !== null && (m.sentAt < on || m.sentAt >= on + day)) return false;
          if (onOrBefore !== null && m.sentAt >= onOrBefore + day) return false;
          if (onOrAfter !== null && m.sentAt < onOrAfter) return false;
        }
        return true;
      })
      .sort((a, b) => (b.sentAt ?? b.createdAt) - (a.sentAt ?? a.createdAt));
    const pageSize = Math.min(1000, Math.max(1, Number(q.get('PageSize') ?? 50) || 50));
    const page = Math.max(0, Number(q.get('Page') ?? 0) || 0);
    const start = page * pageSize;
    const slice = filtered.slice(start, start + pageSize);
    const base = `/2010-04-01/Accounts/${account.accountSid}/Messages.json`;
    const pageUri = (p: number) => {
      const params = new URLSearchParams(q);
      params.set('PageSize', String(pageSize));
      params.set('Page', String(p));
      params.delete('PageToken');
      if (p > 0) params.set('PageToken', `PA${p * pageSize}`);
      return `${base}?${params.toString()}`;
    };
    record.outcome = 200;
    this.#json(res, 200, {
      messages: slice.map((m) => m.resource),
      end: start + slice.length - 1,
      first_page_uri: pageUri(0),
      next_page_uri: start + pageSize < filtered.length ? pageUri(page + 1) : null,
      page,
      page_size: pageSize,
      previous_page_uri: page > 0 ? pageUri(page - 1) : null,
      start,
      uri: `${url.pathname}${url.search}`,
    });
  }

  // ---- status callbacks -----------------------------------------------------------------------

  /**
   * Post status callbacks for a message to its StatusCallback (or `url`), one per status in the
   * given order (so out-of-order delivery is just another order), form-encoded and signed with
   * X-Twilio-Signature over the exact URL and parameters. `duplicate`: each is sent twice (same
   * I-Twilio-Idempotency-Token). `errorCode` (default 30003 for undelivered/failed) is included for
   * failed and undelivered. The stored message takes the most advanced status sent.
   */
  async sendStatusCallbacks(
    sid: string,
    statuses: readonly string[],
    options: { url?: string; duplicate?: boolean; errorCode?: number; authToken?: string } = {},
  ): Promise<RecordedCallback[]> {
    const stored = this.#bySid.get(sid);
    if (!stored) throw new Error(`no message ${sid}`);
    const url = options.url ?? stored.statusCallback;
    if (!url) throw new Error(`message ${sid} has no StatusCallback`);
    const account = this.accounts.find((a) => a.accountSid === stored.resource.account_sid);
    const token = options.authToken ?? account?.authToken ?? '';
    const sent: RecordedCallback[] = [];
    for (const status of statuses) {
      const failed = status === 'failed' || status === 'undelivered';
      const params: Record<string, string> = {
        AccountSid: stored.resource.account_sid,
        ApiVersion: '2010-04-01',
        From: stored.resource.from ?? '',
        MessageSid: sid,
        MessageStatus: status,
        SmsSid: sid,
        SmsStatus: status,
        To: stored.resource.to,
        ...(failed && { ErrorCode: String(options.errorCode ?? 30003) }),
      };
      const signature = computeTwilioSignature(token, url, params);
      const idempotencyToken = `${sid}-${status}-${randomBytes(4).toString('hex')}`;
      for (let copy = 0; copy < (options.duplicate ? 2 : 1); copy++) {
        let responseStatus = 0;
        try {
          const res = await fetch(url, {
            method: 'POST',
            headers: {
              'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
              'x-twilio-signature': signature,
              'i-twilio-idempotency-token': idempotencyToken,
              'user-agent': 'TwilioProxy/1.1',
            },
            body: new URLSearchParams(params).toString(),
            signal: AbortSignal.timeout(5_000),
          });
          responseStatus = res.status;
          await res.arrayBuffer();
        } catch {
          responseStatus = 0;
        }
        const entry = { at: this.#now(), url, params, signature, responseStatus };
        this.callbacks.push(entry);
        sent.push(entry);
      }
      const current = FINAL_ORDER.indexOf(stored.resource.status);
      if (FINAL_ORDER.indexOf(status) > current) {
        this.#setStatus(stored, status, this.#now(), failed ? (options.errorCode ?? 30003) : undefined);
      }
    }
    return sent;
  }

  /** queued → sent → delivered. */
  deliver(sid: string, options: { url?: string } = {}): Promise<RecordedCallback[]> {
    return this.sendStatusCallbacks(sid, ['queued', 'sent', 'delivered'], options);
  }

  /** queued → sent → undelivered (or failed), with an error code (default 30003, unreachable handset). */
  fail(
    sid: string,
    options: { status?: 'failed' | 'undelivered'; errorCode?: number; url?: string } = {},
  ): Promise<RecordedCallback[]> {
    const flow = options.status === 'failed' ? ['queued', 'failed'] : ['queued', 'sent', 'undelivered'];
    return this.sendStatusCallbacks(sid, flow, {
      errorCode: options.errorCode ?? 30003,
      ...(options.url && { url: options.url }),
    });
  }

  #track(p: Promise<unknown>): void {
    const tracked = p.catch(() => undefined).finally(() => this.#pending.delete(tracked));
    this.#pending.add(tracked);
  }

  /** Wait for automatic callbacks still in flight. */
  async settle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  async close(): Promise<void> {
    await this.settle();
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

export async function startTwilioStandin(options: TwilioStandinOptions = {}): Promise<TwilioStandin> {
  return new TwilioStandin(options).listen();
}
