import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** Form parameters as Twilio sends them: a name may repeat (arrays). */
export type TwilioParams = Record<string, string | readonly string[]>;

/**
 * X-Twilio-Signature: base64(HMAC-SHA1(authToken, url + every parameter name followed by its
 * value, names sorted; a repeated name contributes each distinct value, sorted)).
 */
export function computeTwilioSignature(authToken: string, url: string, params: TwilioParams = {}): string {
  let data = url;
  for (const name of Object.keys(params).sort()) {
    const value = params[name];
    const values = typeof value === 'string' ? [value] : [...new Set(value ?? [])].sort();
    for (const v of values) data += name + v;
  }
  return createHmac('sha1', authToken).update(Buffer.from(data, 'utf8')).digest('base64');
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * The URL forms Twilio may have signed: as received, normalised the way Twilio's own libraries do
 * (WHATWG URL: `'` becomes %27), and each of those with and without the scheme's default port.
 */
export function signatureUrlCandidates(url: string): string[] {
  const out = new Set<string>([url]);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return [...out];
  }
  const normalized = parsed.toString().replace(/'/g, '%27');
  out.add(normalized);
  const defaultPort = parsed.protocol === 'https:' ? '443' : parsed.protocol === 'http:' ? '80' : '';
  for (const u of [...out]) {
    const p = new URL(u);
    if (p.port === '' && defaultPort) {
      // WHATWG URL drops default ports, so splice it into the text after the host.
      const auth = p.username ? `${p.username}${p.password ? `:${p.password}` : ''}@` : '';
      out.add(`${p.protocol}//${auth}${p.hostname}:${defaultPort}${u.slice(u.indexOf(p.host) + p.host.length)}`);
    } else if (p.port === defaultPort || (p.port === '' && !defaultPort)) {
      out.add(u.replace(`:${defaultPort}`, ''));
    }
  }
  return [...out];
}

/**
 * Verify a webhook from Twilio. Form-encoded bodies: the signature covers the URL and the sorted
 * parameters. JSON bodies: the URL carries bodySHA256 (hex SHA-256 of the raw body), which must
 * match, and the signature covers the URL alone. Constant-time comparison throughout.
 */
export function verifyTwilioSignature(input: {
  authToken: string;
  url: string;
  signature: string | undefined;
  params?: TwilioParams;
  rawBody?: string;
}): boolean {
  if (!input.signature) return false;
  let params = input.params ?? {};
  let parsedUrl: URL | null = null;
  try {
    parsedUrl = new URL(input.url);
  } catch {
    return false;
  }
  const bodyHash = parsedUrl.searchParams.get('bodySHA256');
  if (bodyHash !== null) {
    if (input.rawBody === undefined) return false;
    const actual = createHash('sha256').update(input.rawBody).digest('hex');
    if (!safeEqual(actual, bodyHash)) return false;
    params = {};
  }
  return signatureUrlCandidates(input.url).some((candidate) =>
    safeEqual(computeTwilioSignature(input.authToken, candidate, params), input.signature as string),
  );
}
