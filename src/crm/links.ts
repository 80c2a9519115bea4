import { DAY } from '../core/clock.js';
import { signToken, verifyToken } from '../core/signing.js';

/**
 * Signed redirect links put in outage messages: a click proves the lead re-engaged. The token
 * carries the lead, the incident, the target and an expiry, signed with the installation secret;
 * only a valid, unexpired token redirects (never an open redirect).
 */

export const LINK_TTL_MS = 30 * DAY;
export const LINK_PATH_PREFIX = '/r/';

/** What a link points at: the spec pack (fallback catalog), the booking calendar, a comparison, assets, a webinar. */
export type LinkKind = 'spec' | 'booking' | 'comparison' | 'assets' | 'webinar';
const KINDS: ReadonlySet<string> = new Set<LinkKind>(['spec', 'booking', 'comparison', 'assets', 'webinar']);

export interface LinkClaim {
  leadId: string;
  incidentId: string | null;
  url: string;
  kind: LinkKind;
  /** Epoch ms after which the link no longer redirects. */
  expiresAt: number;
}

/** A target is only ever an absolute http(s) URL. */
export function isLinkTarget(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.protocol === 'http:';
  } catch {
    return false;
  }
}

export function signLink(
  publicUrl: string,
  secret: string,
  input: { leadId: string; incidentId: string | null; url: string; kind: LinkKind; now: number },
): string {
  const token = signToken(secret, {
    l: input.leadId,
    ...(input.incidentId && { i: input.incidentId }),
    u: input.url,
    k: input.kind,
    e: input.now + LINK_TTL_MS,
  });
  return `${publicUrl}${LINK_PATH_PREFIX}${token}`;
}

export type LinkReading = { ok: true; claim: LinkClaim } | { ok: false; reason: 'invalid' | 'expired' };

/** Verify a token's signature, shape and expiry. */
export function readLink(secret: string, token: string, now: number): LinkReading {
  const raw = verifyToken<Record<string, unknown>>(secret, token);
  if (
    !raw ||
    typeof raw.l !== 'string' ||
    typeof raw.u !== 'string' ||
    typeof raw.k !== 'string' ||
    !KINDS.has(raw.k) ||
    typeof raw.e !== 'number' ||
    (raw.i !== undefined && typeof raw.i !== 'string') ||
    !isLinkTarget(raw.u)
  ) {
    return { ok: false, reason: 'invalid' };
  }
  if (now > raw.e) return { ok: false, reason: 'expired' };
  return {
    ok: true,
    claim: {
      leadId: raw.l,
      incidentId: typeof raw.i === 'string' ? raw.i : null,
      url: raw.u,
      kind: raw.k as LinkKind,
      expiresAt: raw.e,
    },
  };
}
