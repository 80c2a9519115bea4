import type { Dispatcher } from 'undici';
import type { HttpCheck } from '../monitor.js';
import { type CheckOutcome, describeNetworkError, elapsedSince, failure, TimeoutError } from './outcome.js';

/** The most of a body read for an assertion; past that the check judges what it read. */
export const MAX_BODY_BYTES = 1024 * 1024;
const MAX_REDIRECTS = 5;
const REDIRECT_CODES = new Set([301, 302, 303, 307, 308]);
/** Errors of a connection the server may have closed while it sat idle in the pool: worth one retry. */
const STALE_CONNECTION_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);

export const PROBE_USER_AGENT = 'Keepwarm-Probe/0.1';

/**
 * One HTTP(S) check through `dispatcher` (a keep-alive undici Agent shared by every check, so a
 * monitor that runs every 10 s reuses its connection instead of a new handshake each time).
 * Never throws: every problem becomes a failed outcome with a reason for people.
 */
export async function runHttpCheck(check: HttpCheck, dispatcher: Dispatcher): Promise<CheckOutcome> {
  const started = performance.now();
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new TimeoutError(check.timeoutMs)), check.timeoutMs);
  try {
    let url = new URL(check.url);
    let method: string = check.method;
    let body = check.body;
    let retried = false;
    for (let hop = 0; ; ) {
      let res: Dispatcher.ResponseData;
      try {
        res = await dispatcher.request({
          origin: url.origin,
          path: `${url.pathname}${url.search}`,
          method: method as Dispatcher.HttpMethod,
          headers: { 'user-agent': PROBE_USER_AGENT, ...check.headers },
          body: body ?? null,
          signal: abort.signal,
          // Our own timer is the precise, whole-check timeout; these only stop undici's defaults from being shorter.
          headersTimeout: check.timeoutMs + 1000,
          bodyTimeout: check.timeoutMs + 1000,
        });
      } catch (err) {
        // A pooled connection the server closed just as we reused it: a new connection settles it.
        if (!retried && !abort.signal.aborted && (method === 'GET' || method === 'HEAD') && isStaleConnection(err)) {
          retried = true;
          continue;
        }
        throw err;
      }
      const status = res.statusCode;
      const location = res.headers.location;
      if (check.followRedirects && REDIRECT_CODES.has(status) && typeof location === 'string' && location !== '') {
        await res.body.dump();
        if (++hop > MAX_REDIRECTS) return failure(elapsedSince(started), `more than ${MAX_REDIRECTS} redirects`, status);
        const next = new URL(location, url);
        if (next.protocol !== 'http:' && next.protocol !== 'https:')
          return failure(elapsedSince(started), `redirect to a ${next.protocol} URL`, status);
        url = next;
        if (status === 303 || ((status === 301 || status === 302) && method === 'POST')) {
          method = 'GET';
          body = undefined;
        }
        continue;
      }
      return await judgeResponse(check, res, method, started);
    }
  } catch (err) {
    const reason = abort.signal.reason instanceof TimeoutError ? abort.signal.reason : err;
    return failure(elapsedSince(started), describeNetworkError(reason));
  } finally {
    clearTimeout(timer);
  }
}

async function judgeResponse(
  check: HttpCheck,
  res: Dispatcher.ResponseData,
  method: string,
  started: number,
): Promise<CheckOutcome> {
  const status = res.statusCode;
  const [low, high] = check.expectStatus;
  const needsBody = method !== 'HEAD' && (check.bodyContains !== undefined || check.jsonPath !== undefined);
  if (status < low || status > high || !needsBody) {
    // Read (and discard) a small body so the connection goes back to the pool.
    if (method !== 'HEAD') await res.body.dump({ limit: 64 * 1024 });
    const latencyMs = elapsedSince(started);
    if (status < low || status > high) return failure(latencyMs, `HTTP ${status}`, status);
    return success(check, latencyMs, status);
  }
  const { text, truncated } = await readCapped(res.body, MAX_BODY_BYTES);
  const latencyMs = elapsedSince(started);
  if (check.bodyContains !== undefined && !text.includes(check.bodyContains)) {
    return failure(latencyMs, `body lacks ${quote(check.bodyContains)}${truncated ? ' (in its first 1 MiB)' : ''}`, status);
  }
  if (check.jsonPath !== undefined) {
    if (truncated) return failure(latencyMs, 'JSON body over 1 MiB: not checked', status);
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      return failure(latencyMs, 'body is not JSON', status);
    }
    const found = valueAtPath(doc, check.jsonPath);
    if (!found.present) return failure(latencyMs, `JSON has no ${check.jsonPath}`, status);
    if (check.jsonEquals !== undefined && found.value !== check.jsonEquals) {
      return failure(
        latencyMs,
        `JSON ${check.jsonPath} is ${preview(found.value)}, expected ${JSON.stringify(check.jsonEquals)}`,
        status,
      );
    }
  }
  return success(check, latencyMs, status);
}

function success(check: HttpCheck, latencyMs: number, statusCode: number): CheckOutcome {
  const slow = check.degradedMs !== undefined && latencyMs > check.degradedMs;
  return {
    ok: true,
    degraded: slow,
    latencyMs,
    statusCode,
    ...(slow && { error: `slow: ${Math.round(latencyMs)} ms (over ${check.degradedMs} ms)` }),
  };
}

/** Read at most `limit` bytes; a longer body is cut off (its connection is then not reused). */
async function readCapped(body: Dispatcher.ResponseData['body'], limit: number): Promise<{ text: string; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    if (size + chunk.length > limit) {
      chunks.push(chunk.subarray(0, limit - size));
      body.destroy();
      return { text: Buffer.concat(chunks).toString('utf8'), truncated: true };
    }
    chunks.push(chunk);
    size += chunk.length;
  }
  return { text: Buffer.concat(chunks, size).toString('utf8'), truncated: false };
}

/**
 * The value at a dot path ("status.indicator", "items.0.state"; "a[0].b" also works). Arrays take
 * numeric segments. `present` is false when any step is missing.
 */
export function valueAtPath(doc: unknown, path: string): { present: boolean; value?: unknown } {
  const segments = path
    .replace(/\[(\d+)\]/g, '.$1')
    .split('.')
    .filter((s) => s !== '');
  let current: unknown = doc;
  for (const segment of segments) {
    if (Array.isArray(current)) {
      if (!/^\d+$/.test(segment)) return { present: false };
      const index = Number(segment);
      if (index >= current.length) return { present: false };
      current = current[index];
    } else if (current !== null && typeof current === 'object' && Object.hasOwn(current, segment)) {
      current = (current as Record<string, unknown>)[segment];
    } else {
      return { present: false };
    }
  }
  return { present: true, value: current };
}

function isStaleConnection(err: unknown): boolean {
  const e = err as { code?: string; cause?: { code?: string } } | null;
  return STALE_CONNECTION_CODES.has(e?.code ?? '') || STALE_CONNECTION_CODES.has(e?.cause?.code ?? '');
}

function quote(text: string): string {
  return `'${text.length > 60 ? `${text.slice(0, 57)}...` : text}'`;
}

function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
