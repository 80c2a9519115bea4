import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A tiny recording HTTP server on loopback with scripted answers, standing in for Slack incoming
 * webhooks, a Mastodon instance or a webhook receiver.
 *
 *   const slack = await startHttpStandin({ respond: () => ({ status: 200, body: 'ok' }) });
 *   slack.script({ status: 429, headers: { 'retry-after': '7' } });   // the next request only
 *   … slack.requests[0].json()
 */

export interface ScriptedResponse {
  status?: number;
  headers?: Record<string, string>;
  /** A string is sent as is (text/plain unless headers say otherwise); anything else as JSON. */
  body?: unknown;
  /** Answer this late. */
  delayMs?: number;
  /** Cut the connection instead of answering. */
  drop?: boolean;
}

export interface RecordedHttpRequest {
  at: number;
  method: string;
  /** Path and query. */
  url: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw body as received (UTF-8). */
  body: string;
  json(): unknown;
}

export type Responder = (request: RecordedHttpRequest) => ScriptedResponse | Promise<ScriptedResponse>;

export class HttpStandin {
  readonly requests: RecordedHttpRequest[] = [];
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #script: ScriptedResponse[] = [];
  #respond: Responder;
  port = 0;

  constructor(respond: Responder = () => ({ status: 200, body: 'ok' })) {
    this.#respond = respond;
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

  async listen(port = 0): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(port, '127.0.0.1', resolve));
    this.port = (this.#server.address() as AddressInfo).port;
    return this;
  }

  /** http://127.0.0.1:PORT (no trailing slash). */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Queue answers for the next requests, one each, before the default responder applies again. */
  script(...responses: ScriptedResponse[]): void {
    this.#script.push(...responses);
  }

  /** Replace the default responder. */
  respondWith(respond: Responder | ScriptedResponse): void {
    this.#respond = typeof respond === 'function' ? respond : () => respond;
  }

  /** Forget recorded requests and scripted answers. */
  clear(): void {
    this.requests.length = 0;
    this.#script.length = 0;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const url = req.url ?? '/';
    const request: RecordedHttpRequest = {
      at: Date.now(),
      method: req.method ?? 'GET',
      url,
      path: new URL(url, 'http://127.0.0.1').pathname,
      headers: req.headers,
      body,
      json: () => JSON.parse(body) as unknown,
    };
    this.requests.push(request);
    const answer = this.#script.shift() ?? (await this.#respond(request));
    if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
    if (answer.drop) {
      req.socket.destroy();
      return;
    }
    const headers: Record<string, string> = { ...answer.headers };
    let text = '';
    if (typeof answer.body === 'string') {
      text = answer.body;
      if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'text/plain';
    } else if (answer.body !== undefined) {
      text = JSON.stringify(answer.body);
      if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
    }
    headers['content-length'] = String(Buffer.byteLength(text));
    res.writeHead(answer.status ?? 200, headers);
    res.end(text);
  }

  /** Resolve once `count` requests were received in all. */
  async waitForRequests(count: number, timeoutMs = 5_000): Promise<RecordedHttpRequest[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.requests.length < count) {
      if (Date.now() > deadline)
        throw new Error(`http stand-in: ${this.requests.length} of ${count} requests after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return this.requests;
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

export async function startHttpStandin(options: { respond?: Responder; port?: number } = {}): Promise<HttpStandin> {
  return new HttpStandin(options.respond).listen(options.port);
}
