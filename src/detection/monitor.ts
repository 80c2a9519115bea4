import { z } from 'zod';

/** What a monitor checks, by type. Validated at the edge; the probe runner trusts these shapes. */
export const httpCheckSchema = z.strictObject({
  url: z.url({ error: 'expected an absolute http(s) URL' }).refine((u) => /^https?:\/\//.test(u), 'expected http:// or https://'),
  method: z.enum(['GET', 'HEAD', 'POST']).default('GET'),
  headers: z.record(z.string(), z.string()).default({}),
  body: z.string().max(10_000).optional(),
  /** Accepted status codes, inclusive range. */
  expectStatus: z.tuple([z.number().int().min(100).max(599), z.number().int().min(100).max(599)]).default([200, 399]),
  /** The response body must contain this text. */
  bodyContains: z.string().min(1).optional(),
  /** The JSON response must have this value at this path (dot path, e.g. "status.indicator"). */
  jsonPath: z.string().min(1).optional(),
  jsonEquals: z.union([z.string(), z.number(), z.boolean(), z.null()]).optional(),
  timeoutMs: z.number().int().min(100).max(60_000).default(10_000),
  /** Slower than this (but otherwise fine): degraded. */
  degradedMs: z.number().int().min(1).max(60_000).optional(),
  followRedirects: z.boolean().default(false),
});

export const tlsCheckSchema = z.strictObject({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(443),
  /** Fail when the certificate expires within this many days (degraded within twice that). */
  minDaysLeft: z.number().int().min(0).max(365).default(7),
  timeoutMs: z.number().int().min(100).max(60_000).default(10_000),
});

export const dnsCheckSchema = z.strictObject({
  hostname: z.string().min(1),
  recordType: z.enum(['A', 'AAAA', 'CNAME', 'TXT', 'MX']).default('A'),
  /** Expected answers (any of them must be present); empty: any answer will do. */
  expect: z.array(z.string()).default([]),
  timeoutMs: z.number().int().min(100).max(60_000).default(5_000),
});

export const MONITOR_TYPES = ['http', 'tls', 'dns'] as const;
export type MonitorType = (typeof MONITOR_TYPES)[number];

export type HttpCheck = z.output<typeof httpCheckSchema>;
export type TlsCheck = z.output<typeof tlsCheckSchema>;
export type DnsCheck = z.output<typeof dnsCheckSchema>;

export type MonitorCheck =
  | { type: 'http'; check: HttpCheck }
  | { type: 'tls'; check: TlsCheck }
  | { type: 'dns'; check: DnsCheck };

/** Everything a probe runner needs to run one monitor. */
export interface MonitorSpec {
  id: string;
  componentId: string;
  name: string;
  intervalMs: number;
  check: MonitorCheck;
}

/** The outcome of one check. */
export interface ProbeResult {
  monitorId: string;
  /** When the check finished (epoch ms). */
  at: number;
  ok: boolean;
  /** Succeeded, but slow (or a certificate close to expiry). */
  degraded: boolean;
  latencyMs: number;
  /** What went wrong, for people: "HTTP 503", "timeout after 10000 ms", "body lacks 'ok'". */
  error?: string | undefined;
  statusCode?: number | undefined;
}

export const MIN_INTERVAL_MS = 5_000;
