import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A stand-in for HubSpot's CRM v3 contacts API on loopback, for tests and benchmarks:
 *
 *   GET  /crm/v3/objects/contacts?limit=&after=&properties=a,b     paging {next:{after, link}}
 *   POST /crm/v3/objects/contacts/search     {filterGroups:[{filters:[{propertyName, operator: EQ|IN, value|values}]}], properties, limit, after}
 *   POST /crm/v3/objects/contacts/batch/update   {inputs:[{id, properties}]}  (≤ 100 inputs)
 *
 * Contacts live in memory. Every request needs `Authorization: Bearer <token>` (401 otherwise).
 * A request budget per window (default 100 per 10 s, measured with the `now` given, so a fake
 * clock drives it) answers 429 with Retry-After once spent; successful answers of the non-search
 * endpoints carry the X-HubSpot-RateLimit-* headers. Shapes are validated like HubSpot does:
 * unknown property names and malformed bodies are 400 with category VALIDATION_ERROR.
 */

export interface StandinContact {
  id: string;
  properties: Record<string, string | null>;
  createdAt: string;
  updatedAt: string;
}

export interface RecordedHubspotRequest {
  /** The stand-in's clock when the request arrived. */
  at: number;
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
  /** The status answered. */
  status: number;
}

export interface HubspotStandinOptions {
  accessToken?: string;
  /** Requests allowed per window (default 100). */
  budget?: number;
  windowMs?: number;
  /** The clock the budget and the recorded times use (default Date.now). */
  now?: () => number;
  /** Contact properties that exist (the defaults plus Keepwarm's outage properties). */
  properties?: readonly string[];
  /** The first record id handed out (default 1001; give stand-ins of one test distinct ranges). */
  firstId?: number;
}

export const STANDIN_PROPERTIES = [
  'email',
  'firstname',
  'lastname',
  'phone',
  'company',
  'jobtitle',
  'lifecyclestage',
  'hs_object_id',
  'createdate',
  'lastmodifieddate',
  'outage_status',
  'outage_channel',
  'outage_priority',
  'fallback_sent',
] as const;

class HttpFailure extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
    readonly headers: Record<string, string> = {},
  ) {
    super(String(body.message));
  }
}

function validation(message: string, extra: Record<string, unknown> = {}): HttpFailure {
  return new HttpFailure(400, {
    status: 'error',
    message,
    correlationId: '00000000-0000-4000-8000-000000000000',
    category: 'VALIDATION_ERROR',
    ...extra,
  });
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export class HubspotStandin {
  readonly accessToken: string;
  readonly requests: RecordedHubspotRequest[] = [];
  readonly contacts = new Map<string, StandinContact>();
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #now: () => number;
  readonly #properties: Set<string>;
  readonly #faults: Array<{ status: number; headers?: Record<string, string>; body?: Record<string, unknown> }> = [];
  #budget: number;
  #windowMs: number;
  #windowStart = 0;
  #used = 0;
  #nextId: number;
  port = 0;

  constructor(options: HubspotStandinOptions = {}) {
    this.accessToken = options.accessToken ?? 'pat-na1-standin-token';
    this.#budget = options.budget ?? 100;
    this.#windowMs = options.windowMs ?? 10_000;
    this.#now = options.now ?? Date.now;
    this.#properties = new Set(options.properties ?? STANDIN_PROPERTIES);
    this.#nextId = options.firstId ?? 1001;
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500).end();
      });
    });
    // Outlive the clients' idle keep-alive (undici: 4 s) so a reused connection is never being closed.
    this.#server.keepAliveTimeout = 65_000;
    this.#server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.port = (this.#server.address() as AddressInfo).port;
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** crm.hubspot config pointing at this stand-in. */
  config(): { baseUrl: string; accessToken: string } {
    return { baseUrl: this.url, accessToken: this.accessToken };
  }

  /** Change the request budget (e.g. 0 left in the current window). */
  setBudget(budget: number, windowMs = this.#windowMs): void {
    this.#budget = budget;
    this.#windowMs = windowMs;
    this.#windowStart = this.#now();
    this.#used = 0;
  }

  /** Answer the next request with this status (before any other check). */
  failNext(status: number, headers?: Record<string, string>, body?: Record<string, unknown>): void {
    this.#faults.push({ status, ...(headers && { headers }), ...(body && { body }) });
  }

  /** Add a contact; returns its record id. */
  addContact(properties: Record<string, string | null>): string {
    const id = String(this.#nextId++);
    const at = new Date(this.#now()).toISOString();
    this.contacts.set(id, { id, properties: { ...properties, hs_object_id: id }, createdAt: at, updatedAt: at });
    return id;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const record: RecordedHubspotRequest = {
      at: this.#now(),
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      body: undefined,
      status: 0,
    };
    this.requests.push(record);
    let status = 200;
    let body: unknown;
    let headers: Record<string, string> = {};
    try {
      const fault = this.#faults.shift();
      if (fault)
        throw new HttpFailure(
          fault.status,
          fault.body ?? { status: 'error', message: `scripted ${fault.status}` },
          fault.headers,
        );
      if (req.headers.authorization !== `Bearer ${this.accessToken}`) {
        throw new HttpFailure(401, {
          status: 'error',
          message: 'Authentication credentials not found.',
          category: 'INVALID_AUTHENTICATION',
        });
      }
      const isSearch = url.pathname === '/crm/v3/objects/contacts/search';
      headers = this.#spend(isSearch);
      if (text !== '') {
        try {
          record.body = JSON.parse(text) as unknown;
        } catch {
          throw validation('Invalid input JSON on line 1');
        }
      }
      const route = `${record.method} ${url.pathname}`;
      if (route === 'GET /crm/v3/objects/contacts') body = this.#list(url.searchParams);
      else if (route === 'POST /crm/v3/objects/contacts/search') body = this.#search(record.body);
      else if (route === 'POST /crm/v3/objects/contacts/batch/update') [status, body] = this.#batchUpdate(record.body);
      else throw new HttpFailure(404, { status: 'error', message: `No route for ${route}`, category: 'OBJECT_NOT_FOUND' });
    } catch (err) {
      if (!(err instanceof HttpFailure)) throw err;
      status = err.status;
      body = err.body;
      headers = { ...headers, ...err.headers };
    }
    record.status = status;
    const out = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json;charset=utf-8',
      'content-length': String(Buffer.byteLength(out)),
      ...headers,
    });
    res.end(out);
  }

  /** Count the request against the budget: the rate-limit headers, or a 429. */
  #spend(isSearch: boolean): Record<string, string> {
    const now = this.#now();
    if (now - this.#windowStart >= this.#windowMs) {
      this.#windowStart = now;
      this.#used = 0;
    }
    if (this.#used >= this.#budget) {
      const waitMs = this.#windowStart + this.#windowMs - now;
      throw new HttpFailure(
        429,
        {
          status: 'error',
          message: 'You have reached your ten_secondly_rolling limit.',
          errorType: 'RATE_LIMIT',
          correlationId: '00000000-0000-4000-8000-000000000429',
          policyName: 'TEN_SECONDLY_ROLLING',
        },
        { 'retry-after': String(Math.max(1, Math.ceil(waitMs / 1000))) },
      );
    }
    this.#used++;
    // The search endpoints do not send the rate-limit headers (as documented).
    if (isSearch) return {};
    return {
      'x-hubspot-ratelimit-max': String(this.#budget),
      'x-hubspot-ratelimit-remaining': String(this.#budget - this.#used),
      'x-hubspot-ratelimit-interval-milliseconds': String(this.#windowMs),
    };
  }

  #checkProperties(names: readonly string[]): void {
    const unknown = names.filter((n) => !this.#properties.has(n));
    if (unknown.length > 0) {
      throw validation(
        `Property values were not valid: ${JSON.stringify(unknown.map((name) => ({ isValid: false, message: `Property "${name}" does not exist`, error: 'PROPERTY_DOESNT_EXIST', name })))}`,
      );
    }
  }

  #present(contact: StandinContact, properties: readonly string[]): Record<string, unknown> {
    const picked: Record<string, string | null> = {
      createdate: contact.createdAt,
      hs_object_id: contact.id,
      lastmodifieddate: contact.updatedAt,
    };
    for (const name of properties) if (name in contact.properties) picked[name] = contact.properties[name] ?? null;
    return { id: contact.id, properties: picked, createdAt: contact.createdAt, updatedAt: contact.updatedAt, archived: false };
  }

  #page(all: StandinContact[], after: string | null, limit: number, properties: readonly string[], link: string) {
    const start = after === null ? 0 : Number(after);
    if (!Number.isInteger(start) || start < 0) throw validation(`Invalid after: ${after}`);
    const slice = all.slice(start, start + limit);
    const next = start + limit < all.length ? String(start + limit) : null;
    return {
      results: slice.map((c) => this.#present(c, properties)),
      ...(next !== null && { paging: { next: { after: next, link: `${link}after=${next}` } } }),
    };
  }

  #list(query: URLSearchParams): unknown {
    const limit = Number(query.get('limit') ?? '10');
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw validation('limit must be between 1 and 100');
    const properties = (query.get('properties') ?? 'email,firstname,lastname').split(',').filter(Boolean);
    this.#checkProperties(properties);
    const sorted = [...this.contacts.values()].sort((a, b) => Number(a.id) - Number(b.id));
    return this.#page(sorted, query.get('after'), limit, properties, `${this.url}/crm/v3/objects/contacts?limit=${limit}&`);
  }

  #search(body: unknown): unknown {
    if (!isRecord(body)) throw validation('Expected a JSON object');
    const groups = body.filterGroups ?? [];
    if (!Array.isArray(groups) || groups.length > 5) throw validation('filterGroups must be an array of at most 5 groups');
    const limit = body.limit === undefined ? 10 : body.limit;
    if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > 200) {
      throw validation('limit must be between 1 and 200');
    }
    const properties = body.properties === undefined ? ['email', 'firstname', 'lastname'] : body.properties;
    if (!Array.isArray(properties) || !properties.every((p) => typeof p === 'string'))
      throw validation('properties must be strings');
    this.#checkProperties(properties as string[]);
    const tests: Array<Array<(c: StandinContact) => boolean>> = groups.map((group: unknown) => {
      if (!isRecord(group) || !Array.isArray(group.filters) || group.filters.length > 6) {
        throw validation('each filter group needs filters (at most 6)');
      }
      return group.filters.map((filter: unknown) => {
        if (!isRecord(filter) || typeof filter.propertyName !== 'string') throw validation('each filter needs a propertyName');
        const name = filter.propertyName;
        this.#checkProperties([name]);
        const value = (c: StandinContact) => (c.properties[name] ?? '').toLowerCase();
        if (filter.operator === 'EQ') {
          if (typeof filter.value !== 'string') throw validation('EQ needs a value');
          const want = filter.value.toLowerCase();
          return (c: StandinContact) => value(c) === want;
        }
        if (filter.operator === 'IN') {
          if (!Array.isArray(filter.values) || filter.values.length > 100 || !filter.values.every((v) => typeof v === 'string')) {
            throw validation('IN needs values: at most 100 strings');
          }
          const want = new Set((filter.values as string[]).map((v) => v.toLowerCase()));
          return (c: StandinContact) => want.has(value(c));
        }
        throw validation(`Unsupported operator: ${String(filter.operator)}`);
      });
    });
    const matching = [...this.contacts.values()]
      .filter((c) => tests.length === 0 || tests.some((group) => group.every((t) => t(c))))
      .sort((a, b) => Number(a.id) - Number(b.id));
    const after = body.after === undefined ? null : String(body.after);
    return { total: matching.length, ...this.#page(matching, after, limit, properties as string[], '') };
  }

  #batchUpdate(body: unknown): [number, unknown] {
    if (!isRecord(body) || !Array.isArray(body.inputs)) throw validation('Expected {inputs: [...]}');
    if (body.inputs.length === 0 || body.inputs.length > 100) throw validation('inputs: between 1 and 100 items');
    const inputs = body.inputs.map((input: unknown, i: number) => {
      if (!isRecord(input) || typeof input.id !== 'string' || !isRecord(input.properties)) {
        throw validation(`inputs[${i}]: expected {id: string, properties: object}`);
      }
      for (const [name, value] of Object.entries(input.properties)) {
        if (typeof value !== 'string' && value !== null) throw validation(`inputs[${i}].properties.${name}: expected a string`);
      }
      this.#checkProperties(Object.keys(input.properties));
      return { id: input.id, properties: input.properties as Record<string, string | null> };
    });
    const missing = inputs.filter((input) => !this.contacts.has(input.id)).map((input) => input.id);
    const at = new Date(this.#now()).toISOString();
    const results = inputs.flatMap((input) => {
      const contact = this.contacts.get(input.id);
      if (!contact) return [];
      Object.assign(contact.properties, input.properties);
      contact.updatedAt = at;
      return [this.#present(contact, Object.keys(input.properties))];
    });
    const startedAt = at;
    const base = { status: 'COMPLETE', results, startedAt, completedAt: at };
    if (missing.length === 0) return [200, base];
    return [
      207,
      {
        ...base,
        numErrors: 1,
        errors: [
          {
            status: 'error',
            category: 'OBJECT_NOT_FOUND',
            message: 'Could not get some CONTACT objects, they may be deleted or not exist.',
            context: { ids: missing },
          },
        ],
      },
    ];
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

export async function startHubspotStandin(options: HubspotStandinOptions = {}): Promise<HubspotStandin> {
  return new HubspotStandin(options).listen();
}
