import {
  type Consent,
  isTimeZone,
  type LeadFields,
  type Lifecycle,
  mapLifecycle,
  normaliseEmail,
  normalisePhone,
  type Parsed,
  parseConsent,
  parseDate,
  parseMoney,
} from '../leads.js';

/**
 * Column names → lead fields. HubSpot export labels, Salesforce API names and Keepwarm's own names
 * all reduce to the same key (lower-case letters and digits only), so "First Name", "FirstName"
 * and "first_name" are one column. Anything unknown is kept in the lead's attributes.
 */
export const TARGETS = [
  'external_id',
  'email',
  'phone',
  'mobile',
  'first_name',
  'last_name',
  'title',
  'company',
  'owner',
  'lifecycle',
  'status',
  'source',
  'arr_potential',
  'cart_value',
  'annual_revenue',
  'demo_scheduled_at',
  'last_activity_at',
  'timezone',
  'consent_email',
  'consent_sms',
  'country',
  'ignore',
] as const;
export type Target = (typeof TARGETS)[number];

const BUILT_IN: Record<string, Target> = {};
for (const [target, names] of Object.entries({
  external_id: ['recordid', 'id', 'externalid', 'hubspotid', 'contactid', 'leadid', 'crmid'],
  email: ['email', 'emailaddress', 'workemail'],
  phone: ['phonenumber', 'phone', 'officenumber', 'officephone', 'workphone', 'businessphone'],
  mobile: ['mobilephonenumber', 'mobilephone', 'cellnumber', 'mobile', 'cellphone', 'mobilenumber'],
  first_name: ['firstname', 'givenname'],
  last_name: ['lastname', 'surname', 'familyname'],
  title: ['title', 'jobtitle'],
  company: ['company', 'companyname', 'associatedcompany', 'account', 'accountname', 'organization'],
  owner: ['contactowner', 'ownerid', 'owneremail', 'owner', 'leadowner', 'hubspotowner', 'hubspotownerid'],
  lifecycle: ['lifecyclestage', 'lifecycle'],
  status: ['leadstatus', 'status', 'crmstatus'],
  source: ['leadsource', 'source', 'originalsource'],
  arr_potential: ['arrpotential', 'arr', 'potentialarr'],
  cart_value: ['cartvalue'],
  annual_revenue: ['annualrevenue'],
  demo_scheduled_at: ['demoscheduledat', 'demodate', 'demoscheduled'],
  last_activity_at: ['lastactivitydate', 'lastactivityat', 'lastactivity'],
  timezone: ['timezone', 'tz'],
  consent_email: ['consentemail', 'emailconsent', 'emailoptin'],
  consent_sms: ['consentsms', 'smsconsent', 'smsoptin'],
  country: ['country', 'countryregion', 'countrycode'],
} satisfies Record<Exclude<Target, 'ignore'>, string[]>)) {
  for (const name of names) BUILT_IN[name] = target as Target;
}
// Keepwarm's own export: its id and the fields Keepwarm decides are not imported back.
for (const name of [
  'keepwarmid',
  'keepwarmownerid',
  'outagestatus',
  'outagechannel',
  'outagepriority',
  'fallbacksent',
  'outageincidentid',
  'tier',
  'tierrule',
  'taggedat',
  'reengagedat',
  'createdat',
  'updatedat',
]) {
  BUILT_IN[name] ??= 'ignore';
}
BUILT_IN.ownerref = 'owner';

export function headerKey(header: string): string {
  return header.toLowerCase().replace(/[^a-z0-9]/g, '');
}

export interface ColumnPlan {
  index: number;
  header: string;
  target: Target | null;
}

/** How each column of a header maps; custom mapping (config crm.importMapping) first. */
export function planColumns(headers: readonly string[], custom: Readonly<Record<string, string>> = {}): ColumnPlan[] {
  const customByKey = new Map<string, Target>();
  for (const [from, to] of Object.entries(custom)) customByKey.set(headerKey(from), to as Target);
  return headers.map((raw, index) => {
    const header = raw.trim();
    const key = headerKey(header);
    return { index, header, target: customByKey.get(key) ?? BUILT_IN[key] ?? null };
  });
}

/** Problems in a custom mapping (a target that is not a lead field). */
export function checkCustomMapping(custom: Readonly<Record<string, string>>): string[] {
  return Object.entries(custom)
    .filter(([, to]) => !(TARGETS as readonly string[]).includes(to))
    .map(([from, to]) => `crm.importMapping: "${from}" maps to unknown field "${to}" (use one of ${TARGETS.join(', ')})`);
}

export interface RowError {
  row: number;
  column: string;
  message: string;
}

export interface MappedRow {
  row: number;
  fields: LeadFields;
}

type Cell = unknown;

function text(cell: Cell): string | null {
  if (cell === null || cell === undefined) return null;
  if (typeof cell === 'string') {
    const t = cell.trim();
    if (t === '') return null;
    // A cell our export defused ('=…) comes back as written.
    return t.charCodeAt(0) === 39 && /^'[=+\-@\t\r]/.test(t) ? t.slice(1) : t;
  }
  if (typeof cell === 'number' || typeof cell === 'boolean') return String(cell);
  return JSON.stringify(cell);
}

/**
 * One record → lead fields, or the errors naming its columns. Empty cells set nothing (an export
 * that leaves a column blank does not erase what Keepwarm knows).
 */
export function mapRecord(
  row: number,
  plan: readonly ColumnPlan[],
  cells: readonly Cell[],
): { ok: true; value: MappedRow } | { ok: false; errors: RowError[] } {
  const fields: LeadFields = {};
  const errors: RowError[] = [];
  let attributes: Record<string, unknown> | undefined;
  let phone: { raw: string; column: string } | undefined;
  let mobile: { raw: string; column: string } | undefined;
  let country: string | undefined;
  let lifecycleRaw: string | undefined;
  let statusRaw: string | undefined;
  const set = <T>(column: string, parsed: Parsed<T>, apply: (v: T) => void) => {
    if (parsed.ok) apply(parsed.value);
    else errors.push({ row, column, message: parsed.reason });
  };
  for (const col of plan) {
    const cell = cells[col.index];
    const value = text(cell);
    if (value === null) continue;
    switch (col.target) {
      case null:
        attributes ??= {};
        attributes[col.header] = typeof cell === 'string' ? value : cell;
        break;
      case 'ignore':
        break;
      case 'external_id':
        fields.external_id ??= value;
        break;
      case 'email':
        if (fields.email === undefined) set(col.header, normaliseEmail(value), (v) => (fields.email = v));
        break;
      case 'phone':
        phone ??= { raw: value, column: col.header };
        break;
      case 'mobile':
        mobile ??= { raw: value, column: col.header };
        break;
      case 'first_name':
      case 'last_name':
      case 'title':
      case 'company':
      case 'source':
        fields[col.target] ??= value.slice(0, 500);
        break;
      case 'owner':
        fields.owner_ref ??= value;
        break;
      case 'lifecycle':
        lifecycleRaw ??= value;
        break;
      case 'status':
        statusRaw ??= value;
        break;
      case 'arr_potential':
      case 'cart_value': {
        const target = col.target;
        set(col.header, parseMoney(typeof cell === 'number' ? cell : value), (v) => (fields[target] = v));
        break;
      }
      case 'annual_revenue':
        set(col.header, parseMoney(typeof cell === 'number' ? cell : value), (v) => {
          attributes ??= {};
          attributes.annual_revenue = v;
        });
        break;
      case 'demo_scheduled_at':
      case 'last_activity_at': {
        const target = col.target;
        set(col.header, parseDate(typeof cell === 'number' ? cell : value), (v) => (fields[target] = v));
        break;
      }
      case 'timezone':
        if (isTimeZone(value)) fields.timezone = value;
        else {
          // CRMs write zones as labels ("Eastern Time"): kept, not guessed.
          attributes ??= {};
          attributes[col.header] = value;
        }
        break;
      case 'consent_email':
      case 'consent_sms': {
        const target = col.target;
        set<Consent>(col.header, parseConsent(typeof cell === 'boolean' ? cell : value), (v) => (fields[target] = v));
        break;
      }
      case 'country':
        country = value;
        attributes ??= {};
        attributes[col.header] = value;
        break;
    }
  }
  // SMS needs the mobile number; the other one is kept.
  const primary = mobile ?? phone;
  if (primary) {
    set(primary.column, normalisePhone(primary.raw, country), (v) => (fields.phone = v));
    const other = mobile && phone ? phone : undefined;
    if (other) {
      attributes ??= {};
      attributes[other.column] = other.raw;
    }
  }
  if (lifecycleRaw !== undefined) {
    const mapped = mapLifecycle(lifecycleRaw);
    fields.lifecycle = mapped ?? 'lead';
    // Unknown stages stay 'lead'; the CRM's own word is kept in crm_status.
    if (mapped === null && statusRaw === undefined) fields.crm_status = lifecycleRaw;
  } else if (statusRaw !== undefined) {
    fields.lifecycle = mapLifecycle(statusRaw) ?? ('lead' satisfies Lifecycle);
  }
  if (statusRaw !== undefined) fields.crm_status = statusRaw;
  if (attributes) fields.attributes = attributes;
  if (fields.email === undefined && fields.external_id === undefined && !errors.some((e) => e.message.includes('email')))
    errors.push({ row, column: 'Email', message: 'a lead needs an email address or an external id (Record ID / Id)' });
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, value: { row, fields } };
}
