import { createHmac } from 'node:crypto';
import { unprocessable } from '../core/errors.js';
import { normaliseEmail, normalisePhone } from '../crm/leads.js';

/**
 * The person an export or erasure is about, named by an email address or a phone number, in the
 * form every table stores them: emails lower-cased, phone numbers E.164 (the CRM's normalisers).
 */
export interface Subject {
  kind: 'email' | 'phone';
  value: string;
}

export function parseSubject(raw: unknown, field = 'subject'): Subject {
  if (typeof raw !== 'string' || raw.trim() === '')
    throw unprocessable('invalid_field', `${field}: expected an email address or a phone number`, { field });
  const text = raw.trim();
  if (text.includes('@')) {
    const email = normaliseEmail(text);
    if (!email.ok) throw unprocessable('invalid_field', `${field}: ${email.reason}`, { field });
    return { kind: 'email', value: email.value };
  }
  const phone = normalisePhone(text);
  if (!phone.ok) throw unprocessable('invalid_field', `${field}: ${phone.reason}`, { field });
  return { kind: 'phone', value: phone.value };
}

/**
 * A keyed hash of the subject for the audit log: with the installation secret the same address
 * gives the same hash (so "was this person erased?" can be answered), without it the hash cannot
 * be reversed by trying addresses.
 */
export function subjectHash(secret: string, subject: Subject): string {
  return createHmac('sha256', secret).update(`privacy:${subject.kind}:${subject.value}`).digest('hex').slice(0, 32);
}

/** Only the digits of a phone number (stored forms differ: "+44 20 7946 0958" and "+442079460958"). */
export function phoneDigits(raw: string): string {
  const trimmed = raw.trim();
  const digits = trimmed.replace(/\D/g, '');
  return trimmed.startsWith('00') ? digits.slice(2) : digits;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `text` with every occurrence of each needle (any letter case) replaced. */
export function scrubText(text: string, needles: readonly string[], replacement: string): string {
  const usable = [...new Set(needles.filter((n) => n.length >= 3))].sort((a, b) => b.length - a.length);
  if (usable.length === 0) return text;
  return text.replace(new RegExp(usable.map(escapeRegExp).join('|'), 'gi'), replacement);
}

export function mentionsAny(text: string | null, needles: readonly string[]): boolean {
  if (text === null) return false;
  const lower = text.toLowerCase();
  return needles.some((n) => n.length >= 3 && lower.includes(n.toLowerCase()));
}
