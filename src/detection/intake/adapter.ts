import type { z } from 'zod';
import { parseInput } from '../../app/validation.js';
import type { IntakeSource, Normalized } from './alert.js';

/** How a source proves a payload is its own, besides a bearer token. */
export interface SignatureScheme {
  /** Request header (lower case). */
  header: string;
  /** Before the hex digest of HMAC-SHA256(secret, raw body), e.g. "v1=". Several may be comma-separated. */
  prefix: string;
}

/** One alert source: its payload schema (validated at the edge) and a pure mapping to alerts. */
export interface IntakeAdapter<S extends z.ZodType = z.ZodType> {
  source: IntakeSource;
  /** The product, for people: "Prometheus Alertmanager". */
  title: string;
  /** For the OpenAPI description: what is read and how it is authenticated. */
  description: string;
  methods: ReadonlyArray<'POST' | 'PUT'>;
  schema: S;
  /** Sources that sign their payloads (HMAC-SHA256 over the raw body with hmacSecret). */
  signature?: SignatureScheme;
  /** Senders that cannot set headers (Statuspage) may send the token as ?token=. */
  tokenInQuery?: boolean;
  normalize(payload: z.output<S>): Normalized;
}

/** Erase an adapter's payload type so adapters fit in one list. */
export function defineAdapter<S extends z.ZodType>(adapter: IntakeAdapter<S>): IntakeAdapter {
  return adapter as unknown as IntakeAdapter;
}

/** Validate a payload (a 400 naming every field at fault, as at the HTTP edge) and normalize it. */
export function parsePayload(adapter: IntakeAdapter, payload: unknown): Normalized {
  return adapter.normalize(parseInput(adapter.schema, payload, 'body'));
}
