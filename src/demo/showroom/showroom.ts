import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { CatalogProduct, CatalogSnapshotFile } from '../../catalog/product.js';
import { AppError } from '../../core/errors.js';
import { newSecret } from '../../core/ids.js';
import { normaliseEmail } from '../../crm/leads.js';
import {
  ENTRY_POINTS,
  entryOf,
  type FailureMode,
  ORIGIN_ENTRY,
  parseFailureMode,
  parseScenario,
  SCENARIOS,
  type Scenario,
} from './entry-points.js';
import { CONFIGURATOR_JS, LOGO_SVG, productSvg, SHOWROOM_CSS, SHOWROOM_JS } from './showroom.assets.js';
import { edgeErrorPage, listPage, messagePage, type PageContext, productPage, signInPage } from './showroom.pages.js';

/** Where the showroom reads its catalog: CatalogService has this shape. */
export interface ShowroomCatalog {
  latestId(): Promise<string | null>;
  snapshotFile(id?: string): Promise<CatalogSnapshotFile>;
}

export interface ShowroomOptions {
  catalog: ShowroomCatalog;
  /** Keepwarm's base URL as buyers' browsers reach it: the SDKs, banner.json and the events intake. */
  keepwarmUrl: string;
  /** The events SDK's public site key (crm.events.sites[].key); null leaves the events script out. */
  siteKey: string | null;
  /** banner.json URLs tried after Keepwarm's own (static copies elsewhere). */
  backupBannerUrls?: string[];
  /** Seconds between the banner script's checks (default 10). */
  bannerPollSeconds?: number;
  /** Demo leads' emails suggested on the sign-in page. */
  sampleBuyers?: string[];
  siteName?: string;
  /** Told about unexpected errors (answered 503 to the buyer). */
  onError?: (err: unknown) => void;
}

export interface EntryState {
  scenario: Scenario;
  component: string;
  health_url: string;
  /** null while the entry point works. */
  broken: FailureMode | null;
}

export interface ShowroomState {
  url: string;
  entries: EntryState[];
}

/**
 * What a drill needs to take an entry point down and bring it back: the showroom itself (in the
 * demo's process) and ShowroomControlClient (over HTTP, from another process) both have it.
 */
export interface ShowroomControl {
  /** Break one entry point (its default failure unless `mode`); the others keep working. */
  breakEntry(scenario: Scenario, mode?: FailureMode): ShowroomState | Promise<ShowroomState>;
  /** Bring back one entry point, or all of them; at once. */
  restore(scenario?: Scenario): ShowroomState | Promise<ShowroomState>;
  state(): ShowroomState | Promise<ShowroomState>;
}

export const CONTROL_PREFIX = '/_control/';
const BUYER_COOKIE = 'showroom_buyer';
const MAX_BODY_BYTES = 16 * 1024;
/** A request held by a `timeout` failure is dropped after this long even if nobody restores. */
const HANG_LIMIT_MS = 120_000;
const HTML = 'text/html; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field: string | null = null,
  ) {
    super(message);
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function cookieOf(req: IncomingMessage, name: string): string | null {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) {
      try {
        return decodeURIComponent(v.join('='));
      } catch {
        return null;
      }
    }
  }
  return null;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, `The body may be at most ${MAX_BODY_BYTES / 1024} KiB.`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJsonBody(text: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'The body is not valid JSON.', 'body');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new HttpError(400, 'The body must be a JSON object.', 'body');
  return value as Record<string, unknown>;
}

/** Only local paths as redirect targets after sign-in. */
function safeNext(value: string | null): string {
  return value?.startsWith('/') && !value.startsWith('//') ? value : '/';
}

const AVAILABILITY_LABELS: Record<string, string> = {
  in_stock: 'In stock: ships within 3 working days',
  out_of_stock: 'Out of stock: made to order in 6–8 weeks',
  preorder: 'Pre-order: first deliveries next quarter',
  backorder: 'Back-ordered: ships in 2–4 weeks',
};

function priceView(p: CatalogProduct) {
  return {
    sku: p.sku,
    name: p.name,
    brand: p.brand,
    price: p.price,
    availability: p.availability ?? 'in_stock',
    availability_label: AVAILABILITY_LABELS[p.availability ?? 'in_stock'],
  };
}

/**
 * The demo showroom: a small catalog site on its own origin, as a customer's digital showroom
 * would be, with Keepwarm's banner and events scripts embedded. The pages are rendered from the
 * latest catalog snapshot; the browser then loads assets from the CDN path, prices from the
 * product API, the configurator from the widget path and signs in at the auth path. Each of those
 * four entry points can be broken and restored (a drill's lever), in-process or through the
 * token-protected control endpoint.
 */
export class Showroom implements ShowroomControl {
  readonly server: Server;
  /** Authorises the HTTP control endpoint (Authorization: Bearer …). Never printed. */
  readonly controlToken: string;
  #options: ShowroomOptions | null = null;
  #url: string | null = null;
  readonly #broken = new Map<Scenario, FailureMode>();
  readonly #held = new Map<Scenario, Set<ServerResponse>>();
  readonly #sockets = new Set<Socket>();
  #snapshot: { id: string; file: CatalogSnapshotFile } | null = null;
  #loading: Promise<CatalogSnapshotFile | null> | null = null;
  #quotes = 0;

  constructor(options: ShowroomOptions | null = null, controlToken = newSecret(24)) {
    this.#options = options;
    this.controlToken = controlToken;
    this.server = createServer((req, res) => void this.#handle(req, res));
    this.server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
  }

  /**
   * Give the showroom what it serves from. The demo listens first (its origin goes into Keepwarm's
   * config) and connects once Keepwarm runs; until then pages answer 503.
   */
  connect(options: ShowroomOptions): void {
    this.#options = options;
    this.#snapshot = null;
  }

  async listen(port = 0, host = '127.0.0.1'): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const address = this.server.address() as AddressInfo;
    const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    this.#url = `http://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : shown}:${address.port}`;
    return this.#url;
  }

  get url(): string {
    if (!this.#url) throw new Error('the showroom is not listening yet');
    return this.#url;
  }

  /** Each scenario's health URL (what the demo's monitors probe). */
  healthUrls(): Record<Scenario, string> {
    const base = this.url;
    return Object.fromEntries(SCENARIOS.map((s) => [s, `${base}${ENTRY_POINTS[s].healthPath}`])) as Record<Scenario, string>;
  }

  /** The origin's own health URL (the server-rendered pages). */
  originHealthUrl(): string {
    return `${this.url}${ORIGIN_ENTRY.healthPath}`;
  }

  breakEntry(scenario: Scenario, mode?: FailureMode): ShowroomState {
    const which = parseScenario(scenario);
    const how = mode === undefined ? ENTRY_POINTS[which].defaultFailure : parseFailureMode(mode);
    this.#broken.set(which, how);
    // Requests held by an earlier `timeout` failure end now (as a dropped connection).
    this.#dropHeld(which);
    return this.state();
  }

  restore(scenario?: Scenario): ShowroomState {
    const which = scenario === undefined ? [...SCENARIOS] : [parseScenario(scenario)];
    for (const s of which) {
      this.#broken.delete(s);
      this.#dropHeld(s);
    }
    return this.state();
  }

  state(): ShowroomState {
    const health = this.healthUrls();
    return {
      url: this.url,
      entries: SCENARIOS.map((s) => ({
        scenario: s,
        component: ENTRY_POINTS[s].component,
        health_url: health[s],
        broken: this.#broken.get(s) ?? null,
      })),
    };
  }

  async close(): Promise<void> {
    for (const s of SCENARIOS) this.#dropHeld(s);
    if (!this.server.listening) return;
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      for (const socket of this.#sockets) socket.destroy();
    });
  }

  #dropHeld(scenario: Scenario): void {
    const held = this.#held.get(scenario);
    if (!held) return;
    for (const res of held) res.socket?.destroy();
    held.clear();
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let path = '/';
    try {
      path = new URL(req.url ?? '/', 'http://showroom.invalid').pathname;
    } catch {
      // A malformed request target: the 404 below.
    }
    try {
      if (path.startsWith(CONTROL_PREFIX)) return await this.#control(req, res, path);
      const entry = entryOf(path);
      const failure = entry ? this.#broken.get(entry) : undefined;
      if (entry && failure) return this.#fail(entry, failure, req, res);
      const options = this.#options;
      if (!options) return this.#send(res, 503, HTML, edgeErrorPage(503, 'The showroom is starting and'), { 'retry-after': '2' });
      if (entry) return await this.#entry(entry, req, res, path, options);
      return await this.#origin(req, res, path, options);
    } catch (err) {
      this.#error(res, path, err);
    }
  }

  #error(res: ServerResponse, path: string, err: unknown): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const known = err instanceof HttpError || err instanceof AppError;
    if (!known) this.#options?.onError?.(err);
    const status = known ? err.status : 503;
    const message = known ? err.message : 'The showroom cannot read its catalog right now. Please try again shortly.';
    const field = err instanceof HttpError ? err.field : null;
    const wantsJson = path.startsWith(ENTRY_POINTS.api.prefix) || path.startsWith(CONTROL_PREFIX);
    if (wantsJson) {
      const code = err instanceof AppError ? err.code : status === 503 ? 'unavailable' : 'invalid_request';
      const details = err instanceof AppError ? err.details : field ? [{ field, message }] : undefined;
      this.#json(res, status, { error: { code, message, ...(details !== undefined && { details }) } });
    } else {
      const ctx = this.#options ? this.#context(null) : null;
      const body = ctx ? messagePage(ctx, status === 404 ? 'Not found' : 'Something went wrong', message) : message;
      this.#send(res, status, ctx ? HTML : 'text/plain; charset=utf-8', body);
    }
  }

  /** A broken entry point, as a buyer's browser and a probe see it. */
  #fail(entry: Scenario, mode: FailureMode, req: IncomingMessage, res: ServerResponse): void {
    if (mode === 'reset') {
      req.socket.destroy();
      return;
    }
    if (mode === 'timeout') {
      let held = this.#held.get(entry);
      if (!held) {
        held = new Set();
        this.#held.set(entry, held);
      }
      held.add(res);
      const timer = setTimeout(() => res.socket?.destroy(), HANG_LIMIT_MS);
      timer.unref();
      res.once('close', () => {
        clearTimeout(timer);
        held.delete(res);
      });
      return;
    }
    const what = {
      cdn: 'The content delivery network',
      api: 'The product API',
      auth: 'The sign-in service',
      'third-party': 'The configurator service',
    }[entry];
    if (entry === 'api') {
      this.#json(res, 503, { error: { code: 'unavailable', message: `${what} is unavailable.` } }, { 'retry-after': '30' });
      return;
    }
    this.#send(res, 503, HTML, edgeErrorPage(503, what), { 'retry-after': '30' });
  }

  #send(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
    res.writeHead(status, {
      'content-type': type,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      ...headers,
    });
    res.end(res.req.method === 'HEAD' ? undefined : body);
  }

  #json(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
    this.#send(res, status, JSON_TYPE, JSON.stringify(value), headers);
  }

  #html(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
    const kw = new URL(this.#options?.keepwarmUrl ?? 'http://invalid').origin;
    const backups = (this.#options?.backupBannerUrls ?? []).map((u) => new URL(u).origin).join(' ');
    this.#send(res, status, HTML, body, {
      'content-security-policy': `default-src 'none'; script-src 'self' ${kw}; connect-src 'self' ${kw} ${backups}; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
      ...headers,
    });
  }

  #context(req: IncomingMessage | null): PageContext {
    const o = this.#options as ShowroomOptions;
    const cookie = req ? cookieOf(req, BUYER_COOKIE) : null;
    const buyer = cookie ? normaliseEmail(cookie) : null;
    return {
      siteName: o.siteName ?? 'Acme Industrial',
      keepwarmUrl: o.keepwarmUrl.replace(/\/+$/, ''),
      siteKey: o.siteKey,
      bannerUrls: [`${o.keepwarmUrl.replace(/\/+$/, '')}/status/banner.json`, ...(o.backupBannerUrls ?? [])],
      bannerPollSeconds: o.bannerPollSeconds ?? 10,
      buyer: buyer?.ok ? buyer.value : null,
    };
  }

  /** The latest snapshot (null before the first import), re-read only when a new one exists. */
  async #catalog(options: ShowroomOptions): Promise<CatalogSnapshotFile | null> {
    const latest = await options.catalog.latestId();
    if (latest === null) return null;
    if (this.#snapshot?.id === latest) return this.#snapshot.file;
    this.#loading ??= options.catalog
      .snapshotFile(latest)
      .then((file) => {
        this.#snapshot = { id: latest, file };
        return file;
      })
      .finally(() => {
        this.#loading = null;
      });
    return this.#loading;
  }

  async #product(options: ShowroomOptions, sku: string): Promise<{ snapshot: CatalogSnapshotFile; product: CatalogProduct }> {
    const snapshot = await this.#catalog(options);
    const product = snapshot?.products.find((p) => p.sku === sku);
    if (!snapshot || !product) throw new HttpError(404, `No product with SKU ${JSON.stringify(sku)} in the catalog.`, 'sku');
    return { snapshot, product };
  }

  /** The server-rendered pages (the showroom origin). */
  async #origin(req: IncomingMessage, res: ServerResponse, path: string, options: ShowroomOptions): Promise<void> {
    const method = req.method ?? 'GET';
    const query = new URL(req.url ?? '/', 'http://showroom.invalid').searchParams;
    if (path === ORIGIN_ENTRY.healthPath && (method === 'GET' || method === 'HEAD')) {
      return this.#json(res, 200, { status: 'ok', entry: 'origin' });
    }
    if (path === '/' && (method === 'GET' || method === 'HEAD')) {
      const q = query.get('q')?.trim() || null;
      const category = query.get('category')?.trim() || null;
      return this.#html(res, 200, listPage(this.#context(req), await this.#catalog(options), { category, q }));
    }
    if (path.startsWith('/products/') && (method === 'GET' || method === 'HEAD')) {
      const sku = decodeSegment(path.slice('/products/'.length));
      const { snapshot, product } = await this.#product(options, sku);
      return this.#html(res, 200, productPage(this.#context(req), snapshot, product));
    }
    if (path === '/demo-request' && method === 'POST') {
      // Without JavaScript the demo form lands here: thanked, but no intent event is sent.
      const form = new URLSearchParams(await readBody(req));
      const email = normaliseEmail(form.get('email') ?? '');
      if (!email.ok) throw new HttpError(400, `Email: ${email.reason}.`, 'email');
      return this.#html(
        res,
        200,
        messagePage(this.#context(req), 'Demo requested', 'A product specialist will confirm your demo by email.'),
      );
    }
    throw new HttpError(404, 'There is no page at this address.');
  }

  async #entry(
    entry: Scenario,
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    options: ShowroomOptions,
  ): Promise<void> {
    const method = req.method ?? 'GET';
    const read = method === 'GET' || method === 'HEAD';
    if (path === ENTRY_POINTS[entry].healthPath && read) return this.#json(res, 200, { status: 'ok', entry });
    const rest = path.slice(ENTRY_POINTS[entry].prefix.length);
    if (entry === 'cdn' && read) {
      const asset =
        rest === 'showroom.css' ? SHOWROOM_CSS : rest === 'showroom.js' ? SHOWROOM_JS : rest === 'logo.svg' ? LOGO_SVG : null;
      if (asset !== null) {
        const type = rest.endsWith('.css')
          ? 'text/css; charset=utf-8'
          : rest.endsWith('.js')
            ? 'text/javascript; charset=utf-8'
            : 'image/svg+xml';
        return this.#send(res, 200, type, asset, { 'access-control-allow-origin': '*' });
      }
      if (rest.startsWith('img/') && rest.endsWith('.svg')) {
        const sku = decodeSegment(rest.slice(4, -4));
        const snapshot = await this.#catalog(options);
        const product = snapshot?.products.find((p) => p.sku === sku);
        if (product) return this.#send(res, 200, 'image/svg+xml', productSvg(product.sku, product.name));
      }
    }
    if (entry === 'third-party' && read && rest === 'configurator.js') {
      return this.#send(res, 200, 'text/javascript; charset=utf-8', CONFIGURATOR_JS, { 'access-control-allow-origin': '*' });
    }
    if (entry === 'api') return this.#api(req, res, rest, options);
    if (entry === 'auth') return this.#auth(req, res, rest);
    throw new HttpError(404, 'Not found.');
  }

  /** The product and price API the pages call from the browser. */
  async #api(req: IncomingMessage, res: ServerResponse, rest: string, options: ShowroomOptions): Promise<void> {
    const method = req.method ?? 'GET';
    if (rest === 'products' && (method === 'GET' || method === 'HEAD')) {
      const query = new URL(req.url ?? '/', 'http://showroom.invalid').searchParams;
      const category = query.get('category');
      const snapshot = await this.#catalog(options);
      const products = (snapshot?.products ?? []).filter((p) => !category || p.categories.includes(category));
      return this.#json(res, 200, { snapshot: snapshot?.id ?? null, products: products.map(priceView) });
    }
    if (rest.startsWith('products/') && (method === 'GET' || method === 'HEAD')) {
      const { product } = await this.#product(options, decodeSegment(rest.slice('products/'.length)));
      return this.#json(res, 200, priceView(product));
    }
    if (rest === 'quote' && method === 'POST') {
      const body = parseJsonBody(await readBody(req));
      if (typeof body.sku !== 'string' || body.sku === '') throw new HttpError(400, 'sku: expected the SKU of a product.', 'sku');
      const quantity = body.quantity;
      if (typeof quantity !== 'number' || !Number.isInteger(quantity) || quantity < 1 || quantity > 1000)
        throw new HttpError(400, 'quantity: expected a whole number from 1 to 1000.', 'quantity');
      const opts = body.options ?? {};
      if (typeof opts !== 'object' || opts === null || Array.isArray(opts))
        throw new HttpError(400, 'options: expected an object such as {"finish":"oak","size":"large"}.', 'options');
      const { product } = await this.#product(options, body.sku);
      const large = (opts as Record<string, unknown>).size === 'large';
      const unit = product.price ? Number(product.price.amount) * (large ? 1.15 : 1) : null;
      this.#quotes += 1;
      return this.#json(res, 200, {
        quote: `Q-${String(this.#quotes).padStart(5, '0')}`,
        sku: product.sku,
        quantity,
        options: opts,
        unit_price: unit === null || !product.price ? null : { amount: unit.toFixed(2), currency: product.price.currency },
        total:
          unit === null || !product.price ? null : { amount: (unit * quantity).toFixed(2), currency: product.price.currency },
      });
    }
    throw new HttpError(404, 'Not found.');
  }

  /** The sign-in provider: any password works for the demo; the buyer's email is kept in a cookie. */
  async #auth(req: IncomingMessage, res: ServerResponse, rest: string): Promise<void> {
    const method = req.method ?? 'GET';
    const query = new URL(req.url ?? '/', 'http://showroom.invalid').searchParams;
    const sampleBuyers = this.#options?.sampleBuyers ?? [];
    if (rest === 'sign-in' && (method === 'GET' || method === 'HEAD')) {
      return this.#html(res, 200, signInPage(this.#context(req), { next: safeNext(query.get('next')), sampleBuyers }));
    }
    if (rest === 'sign-in' && method === 'POST') {
      const form = new URLSearchParams(await readBody(req));
      const next = safeNext(form.get('next'));
      const raw = form.get('email') ?? '';
      const email = normaliseEmail(raw);
      const error = !email.ok
        ? `Email: ${email.reason}.`
        : (form.get('password') ?? '') === ''
          ? 'Password: enter your password.'
          : null;
      if (error || !email.ok) {
        return this.#html(res, 400, signInPage(this.#context(req), { next, email: raw, error, sampleBuyers }));
      }
      res.setHeader('set-cookie', `${BUYER_COOKIE}=${encodeURIComponent(email.value)}; Path=/; HttpOnly; SameSite=Lax`);
      return this.#send(res, 303, 'text/plain; charset=utf-8', 'Signed in', { location: next });
    }
    if (rest === 'sign-out' && method === 'POST') {
      res.setHeader('set-cookie', `${BUYER_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`);
      return this.#send(res, 303, 'text/plain; charset=utf-8', 'Signed out', { location: '/' });
    }
    throw new HttpError(404, 'Not found.');
  }

  /** The drill's lever over HTTP: Authorization: Bearer <controlToken>. */
  async #control(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const header = req.headers.authorization ?? '';
    const given = header.startsWith('Bearer ') ? header.slice(7).trim() : '';
    if (given === '' || !timingSafeEqual(digest(given), digest(this.controlToken))) {
      return this.#json(
        res,
        401,
        { error: { code: 'unauthenticated', message: 'Send the showroom control token: Authorization: Bearer <token>.' } },
        { 'www-authenticate': 'Bearer' },
      );
    }
    const method = req.method ?? 'GET';
    const action = path.slice(CONTROL_PREFIX.length);
    if (action === 'state' && method === 'GET') return this.#json(res, 200, this.state());
    if ((action === 'break' || action === 'restore') && method === 'POST') {
      const body = parseJsonBody(await readBody(req));
      if (action === 'break') {
        const scenario = parseScenario(body.scenario);
        const mode = body.mode === undefined || body.mode === null ? undefined : parseFailureMode(body.mode);
        return this.#json(res, 200, this.breakEntry(scenario, mode));
      }
      const scenario = body.scenario === undefined || body.scenario === null ? undefined : parseScenario(body.scenario);
      return this.#json(res, 200, this.restore(scenario));
    }
    throw new HttpError(404, 'Control actions: GET state, POST break {scenario, mode?}, POST restore {scenario?}.');
  }
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, 'The address is not valid.', 'path');
  }
}

/** A showroom, listening on `port` (0: any free port) of `host`. */
export async function startShowroom(options: ShowroomOptions, port = 0, host = '127.0.0.1'): Promise<Showroom> {
  const showroom = new Showroom(options);
  await showroom.listen(port, host);
  return showroom;
}
