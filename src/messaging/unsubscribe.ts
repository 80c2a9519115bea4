import { signToken, verifyToken } from '../core/signing.js';
import type { SuppressionChannel } from './suppressions.repo.js';

export interface UnsubscribeClaim {
  /** channel */
  c: SuppressionChannel;
  /** address */
  a: string;
  /** the message the link was in (for the timeline), if any */
  m?: string;
  /** 1: the link is in a drill message: following it changes nothing */
  d?: 1;
}

/** The signed one-click unsubscribe URL put in List-Unsubscribe and in the footer (RFC 8058). */
export function unsubscribeUrl(publicUrl: string, secret: string, claim: UnsubscribeClaim): string {
  const token = signToken(secret, { c: claim.c, a: claim.a, ...(claim.m && { m: claim.m }), ...(claim.d && { d: 1 }) });
  return `${publicUrl}/u/${token}`;
}

export function readUnsubscribeToken(secret: string, token: string): UnsubscribeClaim | null {
  const claim = verifyToken<Record<string, unknown>>(secret, token);
  if (!claim || (claim.c !== 'email' && claim.c !== 'sms') || typeof claim.a !== 'string') return null;
  return {
    c: claim.c,
    a: claim.a,
    ...(typeof claim.m === 'string' && { m: claim.m }),
    ...(claim.d === 1 && { d: 1 as const }),
  };
}
