/**
 * Leads: the pure rules for turning what a CRM export or an API caller gives into the values
 * Keepwarm stores (emails, E.164 phones, lifecycle, whole-dollar money, epoch-millisecond times).
 * Every parser returns either a value or a short reason; callers name the field and the row.
 */

export const LIFECYCLES = ['lead', 'mql', 'sql', 'opportunity', 'customer'] as const;
export type Lifecycle = (typeof LIFECYCLES)[number];
export const CONSENTS = ['granted', 'denied', 'unknown'] as const;
export type Consent = (typeof CONSENTS)[number];

/** The fields an import or the API may set on a lead (absent: left as it is). */
export interface LeadFields {
  external_id?: string;
  email?: string;
  phone?: string;
  first_name?: string;
  last_name?: string;
  title?: string;
  company?: string;
  /** The owner as the CRM names it (email or CRM user id); matched to users by email. */
  owner_ref?: string;
  lifecycle?: Lifecycle;
  crm_status?: string;
  source?: string;
  arr_potential?: number;
  cart_value?: number;
  demo_scheduled_at?: number;
  last_activity_at?: number;
  timezone?: string;
  consent_email?: Consent;
  consent_sms?: Consent;
  /** Other columns, kept as given (merged into the stored attributes). */
  attributes?: Record<string, unknown>;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };
const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = <T>(reason: string): Parsed<T> => ({ ok: false, reason });

const EMAIL = /^[^\s@"<>(),;:]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;

export function normaliseEmail(raw: string): Parsed<string> {
  const value = raw.trim().toLowerCase();
  if (value.length > 254 || !EMAIL.test(value)) return fail(`expected an email address like name@example.com, got ${quote(raw)}`);
  return ok(value);
}

/** Calling codes by the country names and ISO codes CRM exports use. */
const CALLING_CODES: Record<string, string> = {};
for (const [code, names] of Object.entries({
  '1': ['us', 'usa', 'united states', 'united states of america', 'ca', 'canada'],
  '44': ['gb', 'uk', 'united kingdom', 'great britain', 'england'],
  '33': ['fr', 'france'],
  '49': ['de', 'germany', 'deutschland'],
  '34': ['es', 'spain'],
  '39': ['it', 'italy'],
  '31': ['nl', 'netherlands'],
  '32': ['be', 'belgium'],
  '41': ['ch', 'switzerland'],
  '43': ['at', 'austria'],
  '46': ['se', 'sweden'],
  '47': ['no', 'norway'],
  '45': ['dk', 'denmark'],
  '358': ['fi', 'finland'],
  '353': ['ie', 'ireland'],
  '351': ['pt', 'portugal'],
  '48': ['pl', 'poland'],
  '61': ['au', 'australia'],
  '64': ['nz', 'new zealand'],
  '81': ['jp', 'japan'],
  '82': ['kr', 'south korea', 'korea'],
  '86': ['cn', 'china'],
  '852': ['hk', 'hong kong'],
  '886': ['tw', 'taiwan'],
  '65': ['sg', 'singapore'],
  '91': ['in', 'india'],
  '52': ['mx', 'mexico'],
  '55': ['br', 'brazil'],
  '27': ['za', 'south africa'],
  '971': ['ae', 'united arab emirates', 'uae'],
  '972': ['il', 'israel'],
})) {
  for (const name of names) CALLING_CODES[name] = code;
}

/**
 * A phone number in E.164. Accepted: "+country …", a US/Canada 10-digit number (or 11 digits
 * starting with 1), and, when the row names its country, a number written with that country's
 * calling code or with a national trunk 0. Anything else is refused: guessing a country sends
 * texts to strangers.
 */
export function normalisePhone(raw: string, country?: string): Parsed<string> {
  const trimmed = raw.trim();
  const withoutExt = trimmed.replace(/\s*(?:ext\.?|x|#)\s*\d+$/i, '');
  if (/[^0-9+().\-\s/]/.test(withoutExt)) return fail(`expected a phone number, got ${quote(raw)}`);
  const digits = withoutExt.replace(/\D/g, '');
  if (withoutExt.startsWith('+') || withoutExt.startsWith('00')) {
    const national = withoutExt.startsWith('00') ? digits.slice(2) : digits;
    if (national.length < 8 || national.length > 15 || national.startsWith('0'))
      return fail(`expected a phone number of 8 to 15 digits after the +, got ${quote(raw)}`);
    return ok(`+${national}`);
  }
  const code = country === undefined ? undefined : CALLING_CODES[country.trim().toLowerCase()];
  if (code === undefined || code === '1') {
    if (digits.length === 10 && /^[2-9]/.test(digits)) return ok(`+1${digits}`);
    if (digits.length === 11 && digits.startsWith('1')) return ok(`+${digits}`);
    if (code === undefined)
      return fail(
        `a phone number needs its country code (like +44 20 7946 0958) unless it is a US/Canada number; got ${quote(raw)}`,
      );
    return fail(`expected a 10-digit US/Canada phone number, got ${quote(raw)}`);
  }
  let full: string;
  if (digits.startsWith(code) && digits.length - code.length >= 7) full = digits;
  else if (digits.startsWith('0')) full = code + digits.slice(1);
  else full = code + digits;
  if (full.length < 8 || full.length > 15) return fail(`expected a phone number of 8 to 15 digits, got ${quote(raw)}`);
  return ok(`+${full}`);
}

/**
 * Lifecycle from HubSpot's "Lifecycle Stage" (internal names and labels), HubSpot's "Lead Status"
 * and Salesforce's lead Status. null: not a value we know (the caller keeps 'lead' and the raw
 * value in crm_status).
 */
const LIFECYCLE_NAMES: Record<string, Lifecycle> = {
  subscriber: 'lead',
  lead: 'lead',
  new: 'lead',
  open: 'lead',
  'open - not contacted': 'lead',
  'attempted to contact': 'lead',
  unqualified: 'lead',
  'bad timing': 'lead',
  marketingqualifiedlead: 'mql',
  'marketing qualified lead': 'mql',
  mql: 'mql',
  connected: 'mql',
  'in progress': 'mql',
  'working - contacted': 'mql',
  salesqualifiedlead: 'sql',
  'sales qualified lead': 'sql',
  sql: 'sql',
  qualified: 'sql',
  opportunity: 'opportunity',
  'open deal': 'opportunity',
  'closed - converted': 'opportunity',
  customer: 'customer',
  evangelist: 'customer',
};

export function mapLifecycle(raw: string): Lifecycle | null {
  const key = raw.trim().toLowerCase().replace(/_/g, ' ').replace(/\s+/g, ' ');
  return LIFECYCLE_NAMES[key] ?? LIFECYCLE_NAMES[key.replace(/ /g, '')] ?? null;
}

/** Whole dollars from "$25,000", "25000.00", "25K", "1.5M", "USD 3,000" (cents are rounded). */
export function parseMoney(raw: string | number): Parsed<number> {
  if (typeof raw === 'number') {
    if (!Number.isFinite(raw) || raw < 0) return fail(`expected an amount of dollars of 0 or more, got ${raw}`);
    return ok(Math.round(raw));
  }
  const m = /^\s*(?:USD|US\$|\$)?\s*([0-9][0-9,]*(?:\.[0-9]+)?|\.[0-9]+)\s*([kKmM])?\s*(?:USD)?\s*$/.exec(raw);
  if (!m?.[1]) return fail(`expected an amount of dollars like 25000, $25,000 or 25K, got ${quote(raw)}`);
  const digits = m[1].replace(/,/g, '');
  const multiplier = m[2] === undefined ? 1 : m[2].toLowerCase() === 'k' ? 1_000 : 1_000_000;
  const value = Math.round(Number(digits) * multiplier);
  if (!Number.isSafeInteger(value)) return fail(`amount too large: ${quote(raw)}`);
  return ok(value);
}

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?\s*(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * Epoch milliseconds from ISO-8601, HubSpot's "2024-01-05 10:00" (no zone: UTC), Salesforce's
 * "2023-05-03T10:34:07.000+0000", a date alone (midnight UTC) or epoch milliseconds.
 */
export function parseDate(raw: string | number): Parsed<number> {
  if (typeof raw === 'number') {
    if (!Number.isFinite(raw) || raw < 0) return fail(`expected a date, got ${raw}`);
    return ok(Math.trunc(raw));
  }
  const s = raw.trim();
  if (/^\d{12,14}$/.test(s)) return ok(Number(s));
  let ms: number;
  const d = DATE_ONLY.exec(s);
  if (d) {
    ms = Date.UTC(Number(d[1]), Number(d[2]) - 1, Number(d[3]));
    if (new Date(ms).getUTCDate() !== Number(d[3]) || Number(d[2]) > 12) ms = Number.NaN;
  } else {
    const t = DATE_TIME.exec(s);
    if (!t) return fail(`expected a date like 2024-01-05, 2024-01-05 10:00 or 2024-01-05T10:00:00Z, got ${quote(raw)}`);
    const fraction = t[7] ? Number(t[7].slice(0, 3).padEnd(3, '0')) : 0;
    ms = Date.UTC(Number(t[1]), Number(t[2]) - 1, Number(t[3]), Number(t[4]), Number(t[5]), Number(t[6] ?? 0), fraction);
    const zone = t[8];
    if (zone && zone !== 'Z') {
      const sign = zone.startsWith('-') ? -1 : 1;
      const hhmm = zone.slice(1).replace(':', '');
      ms -= sign * (Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(2, 4))) * 60_000;
    }
    // Date.UTC rolls 2024-02-31 over into March: refuse impossible dates instead.
    const day = new Date(Date.UTC(Number(t[1]), Number(t[2]) - 1, Number(t[3]))).getUTCDate();
    if (Number(t[2]) > 12 || day !== Number(t[3]) || Number(t[4]) > 23 || Number(t[5]) > 59) ms = Number.NaN;
  }
  if (Number.isNaN(ms)) return fail(`not a valid date: ${quote(raw)}`);
  return ok(ms);
}

export function parseConsent(raw: string | boolean): Parsed<Consent> {
  if (typeof raw === 'boolean') return ok(raw ? 'granted' : 'denied');
  const v = raw.trim().toLowerCase();
  if (['granted', 'true', 'yes', 'y', '1', 'opted in', 'opt-in', 'subscribed'].includes(v)) return ok('granted');
  if (['denied', 'false', 'no', 'n', '0', 'opted out', 'opt-out', 'unsubscribed'].includes(v)) return ok('denied');
  if (v === 'unknown' || v === '') return ok('unknown');
  return fail(`expected granted, denied or unknown (or yes/no, true/false), got ${quote(raw)}`);
}

let knownZones: Set<string> | null = null;
export function isTimeZone(value: string): boolean {
  knownZones ??= new Set(Intl.supportedValuesOf('timeZone'));
  if (knownZones.has(value) || value === 'UTC') return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

function quote(raw: unknown): string {
  const s = String(raw);
  return JSON.stringify(s.length > 60 ? `${s.slice(0, 57)}...` : s);
}

/** The stored values a lead's import compares (attributes as canonical JSON). */
export interface StoredLead {
  id: string;
  external_id: string | null;
  email: string | null;
  phone: string | null;
  first_name: string | null;
  last_name: string | null;
  title: string | null;
  company: string | null;
  owner_id: string | null;
  owner_ref: string | null;
  lifecycle: string;
  crm_status: string | null;
  source: string | null;
  arr_potential: number | null;
  cart_value: number | null;
  demo_scheduled_at: number | null;
  last_activity_at: number | null;
  timezone: string | null;
  consent_email: string;
  consent_sms: string;
  attributes: Record<string, unknown>;
}

export const SCALAR_FIELDS = [
  'external_id',
  'email',
  'phone',
  'first_name',
  'last_name',
  'title',
  'company',
  'owner_ref',
  'lifecycle',
  'crm_status',
  'source',
  'arr_potential',
  'cart_value',
  'demo_scheduled_at',
  'last_activity_at',
  'timezone',
  'consent_email',
  'consent_sms',
] as const satisfies ReadonlyArray<keyof LeadFields & keyof StoredLead>;

/**
 * What an import changes on an existing lead: the fields it gives that differ (a field it does not
 * give stays), attributes merged key by key. Empty object: unchanged, nothing is written.
 */
export function diffLead(
  existing: StoredLead,
  fields: LeadFields,
  ownerId: string | null | undefined,
): Partial<Omit<StoredLead, 'id'>> {
  const changes: Record<string, unknown> = {};
  for (const key of SCALAR_FIELDS) {
    const value = fields[key];
    if (value !== undefined && value !== existing[key]) changes[key] = value;
  }
  if (ownerId !== undefined && ownerId !== existing.owner_id) changes.owner_id = ownerId;
  if (fields.attributes) {
    const merged = { ...existing.attributes };
    let changed = false;
    for (const [k, v] of Object.entries(fields.attributes)) {
      if (JSON.stringify(merged[k]) !== JSON.stringify(v)) {
        merged[k] = v;
        changed = true;
      }
    }
    if (changed) changes.attributes = merged;
  }
  return changes as Partial<Omit<StoredLead, 'id'>>;
}
