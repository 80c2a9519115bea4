import { type IncomingHttpHeaders, request } from 'node:http';

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/**
 * One HTTP/1.1 request with exactly the headers given (no implicit Accept-Encoding, unlike fetch),
 * so the bytes received are the bytes the server sent.
 */
export function httpRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer; timeoutMs?: number } = {},
): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const body = typeof options.body === 'string' ? Buffer.from(options.body) : options.body;
    const req = request(
      url,
      {
        method: options.method ?? 'GET',
        headers: { ...options.headers, ...(body && { 'content-length': String(body.length) }) },
        agent: false,
        timeout: options.timeoutMs ?? 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout after ${options.timeoutMs ?? 10_000} ms: ${url}`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** JSON in, JSON out; throws with the server's message on a non-2xx answer. */
export async function httpJson<T>(
  url: string,
  method: string,
  payload?: unknown,
  headers: Record<string, string> = {},
): Promise<T> {
  const res = await httpRequest(url, {
    method,
    headers: { accept: 'application/json', ...(payload !== undefined && { 'content-type': 'application/json' }), ...headers },
    ...(payload !== undefined && { body: JSON.stringify(payload) }),
  });
  const text = res.body.toString('utf8');
  if (res.status < 200 || res.status >= 300) throw new Error(`${method} ${url} answered ${res.status}: ${text.slice(0, 300)}`);
  return (text === '' ? undefined : JSON.parse(text)) as T;
}
