/**
 * Pure rules of status subscriptions: which addresses are accepted per channel, secrets and
 * codes, who receives an update, and the webhook payload. No I/O here.
 */
import { createHash, createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { unprocessable } from '../../core/errors.js';
import { normalizeAddress } from '../../messaging/suppressions.repo.js';

export const SUBSCRIBER_CHANNELS = ['email', 'sms', 'webhook'] as const;
export type SubscriberChannel = (typeof SUBSCRIBER_CHANNELS)[number];

export const SUBSCRIBER_STATES = ['pending', 'confirmed', 'unsubscribed'] as const;
export type SubscriberState = (typeof SUBSCRIBER_STATES)[number];

/** Every component, or the listed component ids. */
export type ComponentSelection = 'all' | string[];

/** How long an emailed confirmation link works. */
export const EMAIL_CONFIRM_MS = 48 * 60 * 60_000;
/** How long an SMS code works, and how many wrong tries lock it. */
export const SMS_CODE_MS = 15 * 60_000;
export const SMS_MAX_ATTEMPTS = 5;

const EMAIL = /^[^\s@<>()[\],;:"]+@[^\s@<>()[\],;:"]+\.[^\s@<>()[\],;:".]{2,}$/;
const E164 = /^\+[1-9]\d{6,14}$/;

function invalid(field: string, message: string) {
  return unprocessable('invalid_field', `${field}: ${message}`, { field });
}

/** A host that never leaves the machine: plain http is allowed for it (tests, local receivers). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1';
  return false;
}

/**
 * The stored form of an address, or a 422 naming `field`: emails lower-cased, phone numbers
 * E.164 (spaces, dots, dashes and brackets dropped), webhook URLs https (http only for loopback),
 * without credentials or a fragment.
 */
export function normalizeSubscriberAddress(channel: SubscriberChannel, raw: string, field = 'address'): string {
  const value = raw.trim();
  if (value === '') throw invalid(field, 'required');
  if (value.length > 320) throw invalid(field, 'too long');
  if (channel === 'email') {
    if (!EMAIL.test(value)) throw invalid(field, `${JSON.stringify(value)} is not an email address`);
    return normalizeAddress('email', value);
  }
  if (channel === 'sms') {
    const compact = value.replace(/[\s().-]/g, '');
    const e164 = compact.startsWith('00') ? `+${compact.slice(2)}` : compact;
    if (!E164.test(e164)) {
      throw invalid(field, `${JSON.stringify(value)} is not a phone number in international form, such as +14155550100`);
    }
    return normalizeAddress('sms', e164);
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(field, `${JSON.stringify(value)} is not a URL`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    throw invalid(field, 'webhooks must use https://');
  }
  if (url.username || url.password) throw invalid(field, 'the URL may not carry a user name or password');
  url.hash = '';
  return url.toString();
}

/** The selection as given (absent, "all", or ids), checked against the known component ids. */
export function parseComponentSelection(
  raw: string | readonly string[] | undefined,
  known: ReadonlySet<string>,
  field = 'components',
): ComponentSelection {
  const list = (raw === undefined ? [] : typeof raw === 'string' ? [raw] : [...raw]).map((s) => s.trim()).filter(Boolean);
  if (list.length === 0 || list.includes('all')) return 'all';
  const unknown = list.filter((id) => !known.has(id));
  if (unknown.length > 0) throw invalid(field, `unknown component ${unknown.map((u) => JSON.stringify(u)).join(', ')}`);
  return [...new Set(list)].sort();
}

/**
 * Whether a subscriber receives an update: subscribers to everything always do; the others when
 * they chose one of the update's affected components, or, for an update naming no component, one
 * of the incident's components.
 */
export function wantsUpdate(
  selection: ComponentSelection,
  affected: readonly string[],
  incidentComponents: readonly string[],
): boolean {
  if (selection === 'all') return true;
  const relevant = affected.length > 0 ? affected : incidentComponents;
  return selection.some((id) => relevant.includes(id));
}

/** A confirmation link token (32 random bytes) and what is stored of it. */
export function newLinkToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashLinkToken(token) };
}

export function hashLinkToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A 6-digit SMS code. */
export function newSmsCode(): string {
  return String(randomInt(0, 1_000_000)).padStart(6, '0');
}

/** Six digits are guessable offline from a plain hash: the stored form is keyed with the installation secret. */
export function hashSmsCode(secret: string, subscriberId: string, code: string): string {
  return createHmac('sha256', secret).update(`sms-code:${subscriberId}:${code}`, 'utf8').digest('hex');
}

/** Constant-time comparison of two hex digests. */
export function sameDigest(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

/** The outcome of entering an SMS code (pure: the caller stores the result). */
export function checkSmsCode(input: {
  state: SubscriberState;
  storedHash: string | null;
  expiresAt: number | null;
  attempts: number;
  givenHash: string;
  now: number;
}): 'confirmed' | 'wrong' | 'locked' | 'expired' | 'not_pending' {
  if (input.state !== 'pending' || input.storedHash === null) return 'not_pending';
  if (input.attempts >= SMS_MAX_ATTEMPTS) return 'locked';
  if (input.expiresAt === null || input.now > input.expiresAt) return 'expired';
  if (sameDigest(input.storedHash, input.givenHash)) return 'confirmed';
  return input.attempts + 1 >= SMS_MAX_ATTEMPTS ? 'locked' : 'wrong';
}

/** The per-subscriber webhook signing secret (Standard Webhooks `whsec_` form), derived, never stored. */
export function webhookSecretFor(installationSecret: string, subscriberId: string): string {
  const key = createHmac('sha256', installationSecret).update(`subscriber-webhook:${subscriberId}`, 'utf8').digest();
  return `whsec_${key.toString('base64')}`;
}

/** One-way digest of a client address (abuse investigation without keeping the IP). */
export function hashIp(secret: string, ip: string | undefined | null): string | null {
  if (!ip) return null;
  return createHmac('sha256', secret).update(`ip:${ip}`, 'utf8').digest('hex').slice(0, 32);
}

/** Enough of an address to recognise it: a•••@e•••.com, •••••0100, https://host/•••. */
export function maskSubscriberAddress(channel: SubscriberChannel, address: string): string {
  if (channel === 'webhook') {
    try {
      const url = new URL(address);
      return `${url.protocol}//${url.host}/•••`;
    } catch {
      return '•••';
    }
  }
  if (channel === 'sms') {
    const digits = address.replace(/\D/g, '');
    return digits.length <= 4 ? '•••' : `${'•'.repeat(Math.min(8, digits.length - 4))}${digits.slice(-4)}`;
  }
  const at = address.lastIndexOf('@');
  if (at <= 0) return '•••';
  const domain = address.slice(at + 1);
  const dot = domain.lastIndexOf('.');
  return `${address[0]}•••@${domain[0] ?? ''}•••${dot > 0 ? domain.slice(dot) : ''}`;
}

export interface WebhookUpdateInput {
  page: { id: string; name: string; url: string };
  incident: {
    id: string;
    name: string;
    status: string;
    impact: string;
    createdAt: string;
    updatedAt: string;
    shortlink: string;
  };
  update: { id: string; status: string; body: string; createdAt: string };
  components: Array<{ id: string; name: string; status: string; oldStatus: string }>;
  unsubscribeUrl: string;
}

/**
 * The update webhook body, shaped like Statuspage's incident webhooks (meta, page, incident with
 * its latest update) so receivers written for Statuspage need little change.
 */
export function buildWebhookUpdate(input: WebhookUpdateInput): Record<string, unknown> {
  return {
    meta: { unsubscribe: input.unsubscribeUrl, documentation: 'Keepwarm status subscription (Statuspage-compatible)' },
    page: { id: input.page.id, name: input.page.name, url: input.page.url },
    incident: {
      id: input.incident.id,
      name: input.incident.name,
      status: input.incident.status,
      impact: input.incident.impact,
      created_at: input.incident.createdAt,
      updated_at: input.incident.updatedAt,
      shortlink: input.incident.shortlink,
      incident_updates: [
        {
          id: input.update.id,
          incident_id: input.incident.id,
          status: input.update.status,
          body: input.update.body,
          created_at: input.update.createdAt,
          updated_at: input.update.createdAt,
          display_at: input.update.createdAt,
          affected_components: input.components.map((c) => ({
            code: c.id,
            name: c.name,
            old_status: c.oldStatus,
            new_status: c.status,
          })),
        },
      ],
      components: input.components.map((c) => ({ id: c.id, name: c.name, status: c.status })),
    },
  };
}
