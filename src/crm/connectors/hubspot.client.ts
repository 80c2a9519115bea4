import { PermanentError, TransientError } from '../../core/errors.js';
import { classifyFetchError, excerpt, parseRetryAfter, readText, tryParseJson } from '../../messaging/providers/http.js';
import { classifyStatus, type HUBSPOT_OUTAGE_PROPERTIES, hubspotPauseMs } from './connectors.js';

export type FetchLike = typeof fetch;

/** HubSpot asked to slow down (429): try again after this long, with the same request. */
export class HubspotRateLimited extends Error {
  constructor(readonly retryAfterMs: number) {
    super(`HubSpot rate limit: retry after ${Math.ceil(retryAfterMs / 1000)} s`);
    this.name = 'HubspotRateLimited';
  }
}

export interface HubspotAnswer<T> {
  body: T;
  /** Milliseconds to wait before the next request (the rate-limit headers said the window is spent). */
  pauseMs: number;
}

export interface HubspotContact {
  id: string;
  properties: Record<string, unknown>;
}

export interface HubspotClientOptions {
  baseUrl: string;
  accessToken: string;
  fetch?: FetchLike | undefined;
  timeoutMs?: number | undefined;
}

/**
 * The few HubSpot CRM v3 endpoints the connector uses, with a private app's bearer token. 429 →
 * HubspotRateLimited (Retry-After honoured); 408, 5xx, timeouts and network errors →
 * TransientError; any other non-2xx → PermanentError with HubSpot's message.
 */
export class HubspotClient {
  readonly #base: string;
  readonly #token: string;
  readonly #fetch: FetchLike;
  readonly #timeoutMs: number;

  constructor(options: HubspotClientOptions) {
    this.#base = options.baseUrl.replace(/\/+$/, '');
    this.#token = options.accessToken;
    this.#fetch = options.fetch ?? fetch;
    this.#timeoutMs = options.timeoutMs ?? 20_000;
  }

  async #request<T>(method: 'GET' | 'POST', path: string, body: unknown, signal?: AbortSignal): Promise<HubspotAnswer<T>> {
    const what = `HubSpot ${method} ${path.split('?')[0]}`;
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let response: Response;
    let text: string;
    try {
      response = await this.#fetch(`${this.#base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.#token}`,
          accept: 'application/json',
          ...(body !== undefined && { 'content-type': 'application/json' }),
        },
        ...(body !== undefined && { body: JSON.stringify(body) }),
        signal: combined,
        redirect: 'manual',
      });
      text = await readText(response, 4 * 1024 * 1024);
    } catch (err) {
      throw new TransientError(classifyFetchError(err, combined, what).error.message, { cause: err });
    }
    const verdict = classifyStatus(response.status, parseRetryAfter(response.headers.get('retry-after')));
    if (verdict.kind === 'ok') return { body: tryParseJson(text) as T, pauseMs: hubspotPauseMs(response.headers) };
    if (verdict.kind === 'rate_limited') throw new HubspotRateLimited(verdict.retryAfterMs);
    const parsed = tryParseJson(text) as { message?: unknown } | undefined;
    const message = typeof parsed?.message === 'string' ? parsed.message : excerpt(text, 200);
    const label = `${what}: ${response.status} ${message}`.trim();
    if (verdict.kind === 'transient') throw new TransientError(label, { retryAfterMs: verdict.retryAfterMs });
    throw new PermanentError(label);
  }

  /**
   * POST /crm/v3/objects/contacts/batch/update (at most 100 inputs). A 207 answer lists the inputs
   * HubSpot could not update (e.g. a record id that no longer exists): returned as `failed`.
   */
  async updateOutageProperties(
    inputs: ReadonlyArray<{ id: string; properties: Record<(typeof HUBSPOT_OUTAGE_PROPERTIES)[number], string> }>,
    signal?: AbortSignal,
  ): Promise<HubspotAnswer<{ updated: number; failed: string[] }>> {
    const answer = await this.#request<{
      results?: unknown[];
      errors?: Array<{ message?: string; context?: { ids?: string[] } }>;
    }>('POST', '/crm/v3/objects/contacts/batch/update', { inputs }, signal);
    const failed = (answer.body?.errors ?? []).flatMap((e) => e.context?.ids ?? []);
    return { body: { updated: answer.body?.results?.length ?? 0, failed }, pauseMs: answer.pauseMs };
  }

  /** Contact ids by lower-cased email, one search of at most 100 emails (POST /crm/v3/objects/contacts/search). */
  async findIdsByEmail(emails: readonly string[], signal?: AbortSignal): Promise<HubspotAnswer<Map<string, string>>> {
    const found = new Map<string, string>();
    if (emails.length === 0) return { body: found, pauseMs: 0 };
    const answer = await this.#request<{ results?: HubspotContact[] }>(
      'POST',
      '/crm/v3/objects/contacts/search',
      {
        filterGroups: [{ filters: [{ propertyName: 'email', operator: 'IN', values: emails }] }],
        properties: ['email'],
        limit: Math.min(200, emails.length),
      },
      signal,
    );
    for (const contact of answer.body?.results ?? []) {
      const email = contact.properties.email;
      if (typeof email === 'string' && !found.has(email.toLowerCase())) found.set(email.toLowerCase(), contact.id);
    }
    return { body: found, pauseMs: answer.pauseMs };
  }

  /** One page of GET /crm/v3/objects/contacts (at most 100), with the `after` token of the next page. */
  async listContacts(
    properties: readonly string[],
    after: string | undefined,
    signal?: AbortSignal,
  ): Promise<HubspotAnswer<{ contacts: HubspotContact[]; after: string | undefined }>> {
    const query = new URLSearchParams({ limit: '100', properties: properties.join(','), archived: 'false' });
    if (after) query.set('after', after);
    const answer = await this.#request<{ results?: HubspotContact[]; paging?: { next?: { after?: string } } }>(
      'GET',
      `/crm/v3/objects/contacts?${query}`,
      undefined,
      signal,
    );
    return {
      body: { contacts: answer.body?.results ?? [], after: answer.body?.paging?.next?.after },
      pauseMs: answer.pauseMs,
    };
  }
}
