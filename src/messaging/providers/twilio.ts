import type { Logger } from 'pino';
import { classifyFetchError, excerpt, parseRetryAfter, readText, tryParseJson } from './http.js';
import { type OutboundMessage, type Provider, ProviderError, type SendResult } from './provider.js';

export interface TwilioAccount {
  accountSid: string;
  authToken: string;
  /** REST base URL, https://api.twilio.com (a stand-in in tests). */
  baseUrl: string;
  /** Sender number, E.164. */
  from: string;
}

export interface TwilioProviderOptions {
  name: string;
  account: TwilioAccount;
  log?: Logger | undefined;
  /** Budget for the check made after an ambiguous failure (default 3 s). */
  recheckTimeoutMs?: number | undefined;
  /** Pages of the message list read by lookup() (default 3, 50 messages each). */
  lookupPages?: number | undefined;
}

/** Twilio REST error codes (https://www.twilio.com/docs/api/errors) that describe the recipient. */
const RECIPIENT_CODES: Record<number, string> = {
  21211: "invalid 'To' number",
  21408: 'SMS to this region is not enabled',
  21610: 'recipient has unsubscribed (replied STOP)',
  21612: "'To' number is not reachable via SMS",
  21614: "'To' number is not a mobile number",
};

/** Only the fields Keepwarm reads from a Message resource. */
interface TwilioMessage {
  sid?: unknown;
  status?: unknown;
  body?: unknown;
  date_created?: unknown;
  error_code?: unknown;
}

interface TwilioErrorBody {
  code?: unknown;
  message?: unknown;
  more_info?: unknown;
}

/**
 * SMS through Twilio's Messages REST API (2010-04-01): a form POST per message with basic auth and a
 * StatusCallback for delivery reports. Twilio has no idempotency key for Messages, so a message whose
 * earlier attempt may have reached Twilio is looked up in the message list before it is sent again
 * (lookup()), and send() itself checks the list once after an ambiguous failure (a connection dropped
 * or a timeout after the request was written) before reporting it.
 */
export class TwilioProvider implements Provider {
  readonly name: string;
  readonly channel = 'sms' as const;
  readonly #account: TwilioAccount;
  readonly #authorization: string;
  readonly #baseUrl: string;
  readonly #messagesUrl: string;
  readonly #log: Logger | undefined;
  readonly #recheckTimeoutMs: number;
  readonly #lookupPages: number;

  constructor(options: TwilioProviderOptions) {
    this.name = options.name;
    this.#account = options.account;
    this.#authorization = `Basic ${Buffer.from(`${options.account.accountSid}:${options.account.authToken}`).toString('base64')}`;
    this.#baseUrl = options.account.baseUrl.replace(/\/+$/, '');
    this.#messagesUrl = `${this.#baseUrl}/2010-04-01/Accounts/${options.account.accountSid}/Messages.json`;
    this.#log = options.log;
    this.#recheckTimeoutMs = options.recheckTimeoutMs ?? 3_000;
    this.#lookupPages = options.lookupPages ?? 3;
  }

  /** One bucket per sender number (carriers limit each long code to about 1 message a second). */
  rateKey(): string {
    return `twilio:${this.#account.from}`;
  }

  async send(message: OutboundMessage, signal: AbortSignal): Promise<SendResult> {
    if (signal.aborted) {
      throw new ProviderError('timeout', `Twilio ${this.name}: deadline passed before sending`, { code: 'timeout' });
    }
    const form = new URLSearchParams({ To: message.to, From: this.#account.from, Body: message.text });
    if (message.statusCallbackUrl) form.set('StatusCallback', message.statusCallbackUrl);
    const started = Date.now();
    let response: Response;
    try {
      response = await fetch(this.#messagesUrl, {
        method: 'POST',
        headers: {
          authorization: this.#authorization,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: form.toString(),
        signal,
        redirect: 'manual',
      });
    } catch (err) {
      const failure = classifyFetchError(err, signal, `Twilio ${this.name}`);
      if (failure.maybeDelivered) {
        const found = await this.#recheck(message, started);
        if (found) return found;
      }
      throw failure.error;
    }

    const text = await readText(response);
    if (response.status === 200 || response.status === 201) {
      const body = tryParseJson(text) as TwilioMessage | undefined;
      if (typeof body?.sid === 'string') {
        return { providerMessageId: body.sid, status: 'sent', detail: `twilio ${String(body.status ?? 'queued')}` };
      }
      // Created, but the answer was cut or unreadable: find the message before reporting a failure.
      const found = await this.#recheck(message, started);
      if (found) return found;
      throw new ProviderError('transient', `Twilio ${this.name}: ${response.status} without a message sid: ${excerpt(text)}`, {
        code: 'bad_response',
      });
    }
    throw this.#statusError(response, text);
  }

  #statusError(response: Response, text: string): ProviderError {
    const body = (tryParseJson(text) ?? {}) as TwilioErrorBody;
    const code = typeof body.code === 'number' ? body.code : Number(body.code);
    const twilioCode = Number.isFinite(code) && code > 0 ? code : undefined;
    const detail = typeof body.message === 'string' ? body.message : excerpt(text) || response.statusText;
    const label = `Twilio ${this.name}: ${response.status}${twilioCode ? ` (${twilioCode})` : ''} ${detail}`;
    const codeText = twilioCode ? String(twilioCode) : `http_${response.status}`;
    if (response.status === 429 || twilioCode === 20429) {
      return new ProviderError('rate_limited', label, {
        code: codeText,
        retryAfterMs: parseRetryAfter(response.headers.get('retry-after')),
      });
    }
    if (response.status >= 500) {
      return new ProviderError('transient', label, {
        code: codeText,
        retryAfterMs: parseRetryAfter(response.headers.get('retry-after')),
      });
    }
    if (twilioCode !== undefined && twilioCode in RECIPIENT_CODES) {
      return new ProviderError('recipient', `${label} [${RECIPIENT_CODES[twilioCode]}]`, {
        code: codeText,
        suppress: twilioCode === 21610,
      });
    }
    // 401 (20003 bad credentials), 404 (unknown account), other 400s (21606 bad sender, …): retrying cannot help.
    return new ProviderError('permanent', label, { code: codeText });
  }

  /** After an ambiguous failure: did Twilio create the message anyway? (null: not found or cannot tell) */
  async #recheck(message: OutboundMessage, started: number): Promise<SendResult | null> {
    try {
      const found = await this.#find(message, started - 2_000, AbortSignal.timeout(this.#recheckTimeoutMs));
      if (found)
        this.#log?.warn({ provider: this.name, sid: found.providerMessageId }, 'twilio send failed but the message exists');
      return found;
    } catch {
      return null;
    }
  }

  /**
   * Was this message already created at Twilio since `since` (epoch ms)? Lists the messages from the
   * sender number to the recipient sent on or after the day of `since` (DateSent>=, UTC) and matches
   * the exact body. Messages Twilio has not sent yet (queued, no date_sent) do not appear in that list.
   */
  async lookup(message: OutboundMessage, since: number): Promise<SendResult | null> {
    return this.#find(message, since, AbortSignal.timeout(10_000));
  }

  async #find(message: OutboundMessage, since: number, signal: AbortSignal): Promise<SendResult | null> {
    const day = new Date(since).toISOString().slice(0, 10);
    const query = new URLSearchParams({ To: message.to, From: this.#account.from, 'DateSent>': day, PageSize: '50' });
    let url: string | null = `${this.#messagesUrl}?${query.toString()}`;
    const sinceSecond = Math.floor(since / 1000) * 1000;
    for (let page = 0; url && page < this.#lookupPages; page++) {
      const response = await fetch(url, {
        headers: { authorization: this.#authorization, accept: 'application/json' },
        signal,
        redirect: 'manual',
      });
      const text = await readText(response, 4 * 1024 * 1024);
      if (response.status !== 200) throw this.#statusError(response, text);
      const body = tryParseJson(text) as { messages?: unknown; next_page_uri?: unknown } | undefined;
      const messages = Array.isArray(body?.messages) ? (body.messages as TwilioMessage[]) : [];
      for (const m of messages) {
        if (typeof m.sid !== 'string' || m.body !== message.text) continue;
        const created = typeof m.date_created === 'string' ? Date.parse(m.date_created) : Number.NaN;
        if (Number.isNaN(created) || created < sinceSecond) continue;
        if (m.status === 'canceled') continue;
        return {
          providerMessageId: m.sid,
          status: m.status === 'delivered' ? 'delivered' : 'sent',
          detail: `found at Twilio (${String(m.status)})`,
        };
      }
      url = typeof body?.next_page_uri === 'string' && body.next_page_uri !== '' ? `${this.#baseUrl}${body.next_page_uri}` : null;
    }
    return null;
  }

  async close(): Promise<void> {}
}
