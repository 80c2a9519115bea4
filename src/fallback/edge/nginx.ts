import { isAbsolute, join } from 'node:path';
import { z } from 'zod';
import { badRequest } from '../../core/errors.js';

/**
 * The edge in front of the showroom, as an nginx config: pages come from the origin and are
 * cached; when the origin fails (connection error, timeout, 5xx) a cached copy is served stale,
 * and a page never cached comes from the static mirror with the incident banner injected; a
 * page the mirror lacks gets an outage page (503 with Retry-After). Every answer says where it
 * came from in X-Keepwarm-Source: origin, cache (fresh cached copy), stale, mirror, outage.
 *
 * Pure: options in, config text out. Writing the file and running nginx are the caller's.
 */

/**
 * The SDK scripts a showroom page loads from its own host: the edge serves them itself, from
 * Keepwarm's SDK folder, so they load while the origin is down.
 */
export const EDGE_SDK_SCRIPTS = ['keepwarm-banner.js', 'keepwarm-events.js', 'keepwarm-flags.js'] as const;
/** The banner SDK's path on the showroom host (the one the edge inserts into mirror pages). */
export const EDGE_SDK_PATH = '/sdk/keepwarm-banner.js';

/** Characters that cannot be quoted safely in an nginx string ($ starts a variable). */
const UNSAFE = /["\\$\p{Cc}]/u;

const safePath = (what: string) =>
  z
    .string()
    .min(1, `${what} is required`)
    .refine((p) => isAbsolute(p), `${what} must be an absolute path`)
    .refine((p) => !UNSAFE.test(p), `${what} must not contain quotes, backslashes, $ or control characters`);

const httpUrl = (what: string) =>
  z
    .string()
    .refine((u) => {
      try {
        const url = new URL(u);
        return url.protocol === 'http:' || url.protocol === 'https:';
      } catch {
        return false;
      }
    }, `${what} must be an absolute http(s) URL`)
    .refine((u) => !UNSAFE.test(u), `${what} must not contain quotes, backslashes, $ or control characters`);

const duration = (what: string) => z.string().regex(/^\d+(ms|s|m|h|d)$/, `${what} must be a duration like 3s, 10m or 7d`);

export const edgeOptionsSchema = z.object({
  /** Name of this showroom in the config (upstream, cache zone); letters, digits, underscore. */
  name: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,31}$/, 'name must be lower-case letters, digits or _ (starting with a letter, at most 32)')
    .default('showroom'),
  /** The live showroom: http(s)://host[:port]; no path. */
  origin: httpUrl('origin').refine((u) => {
    const url = URL.parse(u);
    return url === null || ((url.pathname === '/' || url.pathname === '') && !url.search && !url.hash && !url.username);
  }, 'origin must be scheme://host[:port] without path, query or credentials'),
  /** The static mirror folder (the published fallback build). */
  mirrorDir: safePath('mirror'),
  /** Where the proxy cache lives. */
  cacheDir: safePath('cache folder'),
  /** The folder holding the SDK scripts the edge serves at /sdk/ (banner, events, flags). */
  sdkDir: safePath('SDK folder'),
  /** Port, or address:port. */
  listen: z
    .union([z.number(), z.string()])
    .transform((v) => String(v))
    .refine((v) => {
      const m = /^(?:(\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]):)?(\d{1,5})$/.exec(v);
      return m !== null && Number(m[2]) >= 1 && Number(m[2]) <= 65535;
    }, 'listen must be a port (1–65535) or address:port'),
  serverName: z
    .string()
    .regex(/^(_|[A-Za-z0-9.*-]+)$/, 'server name must be a host name (or _ for any)')
    .default('_'),
  /** banner.json URLs, primary first (the SDK's data-urls). */
  bannerUrls: z.array(httpUrl('banner URL')).min(1, 'at least one banner URL is required'),
  /** Inject the banner script into mirror pages (off when the mirror build already carries it). */
  injectBanner: z.boolean().default(true),
  connectTimeout: duration('connect timeout').default('3s'),
  readTimeout: duration('read timeout').default('15s'),
  /** How long a cached 200 counts as fresh when the origin does not say. */
  cacheValid: duration('cache validity').default('1m'),
  /** How long a cached page is kept (and so can be served stale) without being requested. */
  cacheKeep: duration('cache keep').default('7d'),
  cacheMaxSize: z
    .string()
    .regex(/^\d+[kmg]?$/i, 'cache max size must be like 512m or 2g')
    .default('1g'),
  /** Requests carrying this cookie (a signed-in buyer) are neither cached nor answered from cache. */
  sessionCookie: z
    .string()
    .regex(/^[A-Za-z0-9_]+$/, 'session cookie must be letters, digits or _')
    .optional(),
  /** Seconds in the outage page's Retry-After. */
  retryAfter: z.number().int().min(1).max(86_400).default(120),
  /** Where buyers see status during the outage (linked from the outage page). */
  statusUrl: httpUrl('status URL').optional(),
  /**
   * A complete nginx.conf (events, http, pid and temp paths under the cache folder) instead of
   * an http-context file for /etc/nginx/conf.d.
   */
  standalone: z.boolean().default(false),
});

export type EdgeOptionsInput = z.input<typeof edgeOptionsSchema>;
export type EdgeOptions = z.output<typeof edgeOptionsSchema>;

/** Validate, naming the field: a 400 AppError (exit code 2 from the CLI). */
export function parseEdgeOptions(input: EdgeOptionsInput): EdgeOptions {
  const parsed = edgeOptionsSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => ({ field: i.path.join('.') || '(options)', message: i.message }));
  throw badRequest('invalid_edge_options', issues.map((i) => `${i.field}: ${i.message}`).join('; '), issues);
}

/** A double-quoted nginx string (callers keep $ out, so no variable is interpolated). */
function q(value: string): string {
  if (value.includes('$')) throw new Error('nginx string must not contain $');
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function escapeHtml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
    .replace(/\$/g, '&#36;');
}

const trimSlash = (p: string) => (p.length > 1 ? p.replace(/\/+$/, '') : p);

/** The script tag injected before </body>. */
export function bannerScriptTag(bannerUrls: readonly string[]): string {
  return `<script src="${EDGE_SDK_PATH}" data-urls="${escapeHtml(bannerUrls.map((u) => new URL(u).href).join(' '))}" async></script>`;
}

/** The page for a path the mirror lacks while the origin is down. */
export function outagePage(o: Pick<EdgeOptions, 'bannerUrls' | 'statusUrl' | 'retryAfter'>): string {
  const minutes = Math.max(1, Math.round(o.retryAfter / 60));
  const status = o.statusUrl
    ? `<p><a href="${escapeHtml(new URL(o.statusUrl).href)}">Follow the status page</a> for updates.</p>`
    : '';
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="robots" content="noindex"><title>Temporarily unavailable</title></head>',
    '<body><main><h1>This page is temporarily unavailable</h1>',
    '<p>The showroom is having a problem and this page has no offline copy. Please try again in about ' +
      `${minutes} minute${minutes === 1 ? '' : 's'}.</p>`,
    '<p><a href="/">Browse the offline catalog</a></p>',
    status,
    `</main>${bannerScriptTag(o.bannerUrls)}</body></html>`,
  ].join('');
}

const MIME_TYPES = `  types {
    text/html html htm;
    text/css css;
    text/javascript js mjs;
    application/json json;
    text/csv csv;
    text/plain txt;
    application/xml xml;
    application/pdf pdf;
    image/svg+xml svg;
    image/png png;
    image/jpeg jpg jpeg;
    image/webp webp;
    image/avif avif;
    font/woff2 woff2;
    application/wasm wasm;
  }
  default_type application/octet-stream;
`;

/** The edge config for one showroom. */
export function nginxEdgeConfig(input: EdgeOptionsInput): string {
  const o = parseEdgeOptions(input);
  const origin = new URL(o.origin);
  const upstreamName = `keepwarm_${o.name}_origin`;
  const zone = `keepwarm_${o.name}`;
  const sourceVar = `$keepwarm_${o.name}_source`;
  const cacheDir = trimSlash(o.cacheDir);
  const mirror = trimSlash(o.mirrorDir);
  const defaultPort = origin.protocol === 'https:' ? '443' : '80';
  const originServer = `${origin.hostname}:${origin.port || defaultPort}`;
  const skipCache = ['$http_authorization', ...(o.sessionCookie ? [`$cookie_${o.sessionCookie}`] : [])].join(' ');

  const http = `# Keepwarm edge for showroom "${o.name}": origin ${origin.origin}, mirror ${mirror}.
# Written by \`keepwarm edge nginx\`; regenerate rather than edit.
# X-Keepwarm-Source: origin | cache (fresh cached copy) | stale (origin failed) | mirror | outage.

proxy_cache_path ${q(`${cacheDir}/pages`)} levels=1:2 keys_zone=${zone}:10m max_size=${o.cacheMaxSize} inactive=${o.cacheKeep} use_temp_path=off;

upstream ${upstreamName} {
  server ${originServer} max_fails=1 fail_timeout=10s;
  keepalive 16;
}

map $upstream_cache_status ${sourceVar} {
  HIT cache;
  STALE stale;
  UPDATING stale;
  default origin;
}

server {
  listen ${o.listen};
  server_name ${o.serverName};

  location / {
    proxy_pass ${origin.protocol === 'https:' ? 'https' : 'http'}://${upstreamName};
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host $host;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto $scheme;
${
  origin.protocol === 'https:'
    ? `    proxy_ssl_server_name on;
    proxy_ssl_name ${origin.hostname};
`
    : ''
}    proxy_connect_timeout ${o.connectTimeout};
    proxy_send_timeout ${o.readTimeout};
    proxy_read_timeout ${o.readTimeout};

    proxy_cache ${zone};
    proxy_cache_key $scheme$host$request_uri;
    proxy_cache_valid 200 301 302 ${o.cacheValid};
    proxy_cache_revalidate on;
    proxy_cache_lock on;
    proxy_cache_background_update on;
    proxy_cache_use_stale error timeout http_500 http_502 http_503 http_504 updating;
    proxy_cache_bypass ${skipCache};
    proxy_no_cache ${skipCache};

    proxy_intercept_errors on;
    error_page 500 502 503 504 = @mirror;
    add_header X-Keepwarm-Source ${sourceVar} always;
  }

${EDGE_SDK_SCRIPTS.map(
  (script) => `  location = /sdk/${script} {
    alias ${q(join(o.sdkDir, script))};
    default_type text/javascript;
    add_header Cache-Control "public, max-age=86400" always;
    add_header X-Keepwarm-Source edge always;
  }
`,
).join('')}
  # The origin failed and no cached copy exists: the static mirror, never cached downstream.
  location @mirror {
    root ${q(mirror)};
    try_files $uri $uri/index.html $uri.html @outage;
    add_header X-Keepwarm-Source mirror always;
    add_header Cache-Control "no-store" always;
${
  o.injectBanner
    ? `    sub_filter_once on;
    sub_filter ${q('</body>')} ${q(`${bannerScriptTag(o.bannerUrls)}</body>`)};
`
    : ''
}  }

  # Neither the origin nor the mirror has the page.
  location @outage {
    default_type text/html;
    add_header Retry-After ${o.retryAfter} always;
    add_header Cache-Control "no-store" always;
    add_header X-Keepwarm-Source outage always;
    return 503 ${q(outagePage(o))};
  }
}
`;

  if (!o.standalone) return http;
  const indent = (text: string) =>
    text
      .split('\n')
      .map((l) => (l ? `  ${l}` : l))
      .join('\n');
  return `worker_processes auto;
pid ${q(`${cacheDir}/nginx.pid`)};
error_log ${q(`${cacheDir}/error.log`)} warn;
events { worker_connections 1024; }

http {
${MIME_TYPES}  charset utf-8;
  access_log off;
  server_tokens off;
  client_body_temp_path ${q(`${cacheDir}/tmp/body`)};
  proxy_temp_path ${q(`${cacheDir}/tmp/proxy`)};
  fastcgi_temp_path ${q(`${cacheDir}/tmp/fastcgi`)};
  uwsgi_temp_path ${q(`${cacheDir}/tmp/uwsgi`)};
  scgi_temp_path ${q(`${cacheDir}/tmp/scgi`)};

${indent(http)}}
`;
}
