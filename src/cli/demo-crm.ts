import type { Actor } from '../app/actor.js';
import type { Services } from '../app/services.js';
import { DAY, HOUR } from '../core/clock.js';
import { newSecret } from '../core/ids.js';
import { jsonSource } from '../crm/import/sources.js';
import { upsertOwnerProfile } from '../crm/owners.repo.js';

const SEED_ACTOR: Actor = { type: 'system', id: null, name: 'demo seed', role: 'admin', ip: null };

export const DEMO_REPS = [
  { email: 'sam@acme.example', name: 'Sam Rivera', calendar: 'https://calendar.acme.example/sam' },
  { email: 'kim@acme.example', name: 'Kim Lee', calendar: 'https://calendar.acme.example/kim' },
  { email: 'alex@acme.example', name: 'Alex Morgan', calendar: 'https://calendar.acme.example/alex' },
  { email: 'noor@acme.example', name: 'Noor Haddad', calendar: 'https://calendar.acme.example/noor' },
] as const;

/** How many leads the demo pipeline holds. */
export const DEMO_LEAD_COUNT = 500;

const FIRST =
  'Dana Ravi Lena Marco Aiko Tomás Grace Owen Priya Jonas Mei Sara Diego Hannah Kwame Ingrid Luca Fatima Ethan Chloé Mateo Yuki Olivia Samir Nina Felix Amara Bruno'.split(
    ' ',
  );
const LAST =
  "Whitfield Patel Novak Rossi Tanaka Silva Okafor Brennan Iyer Berg Chen Haddad Moreau Schmidt García Kowalski Nguyen Andersen O'Neill Dubois Costa Murphy Larsen Fischer".split(
    ' ',
  );
const COMPANY_STEMS =
  'Northwind, Contoso, Fabrikam, Tailspin, Wide World, Litware, Proseware, Adventure Works, Blue Yonder, Coho, Lamna, Margie, Trey, Wingtip, Alpine, Fourth Coffee, Graphic Design, Humongous, Lucerne, Relecloud'.split(
    ', ',
  );
const COMPANY_KINDS = 'Fixtures Retail Stores Interiors Hospitality Labs Logistics Outfitters Health Group'.split(' ');
const TITLES =
  'Head of Procurement, Store Design Manager, Facilities Director, Purchasing Lead, Operations Manager, VP Retail Expansion, Category Buyer, Project Manager, Office Manager, CFO'.split(
    ', ',
  );
const SOURCES = ['Website', 'Trade show', 'Referral', 'Webinar', 'Paid search', 'Partner'];
/** Buyers' time zones (the demos of today's Tier A leads are set in UTC so "today" is the same day everywhere). */
const ZONES = [
  { tz: 'America/New_York', area: '212', country: 'US' },
  { tz: 'America/Chicago', area: '312', country: 'US' },
  { tz: 'America/Los_Angeles', area: '415', country: 'US' },
  { tz: 'America/Denver', area: '303', country: 'US' },
  { tz: 'America/Toronto', area: '416', country: 'CA' },
] as const;
const PRODUCTS = ['Modular shelving S-200', 'Track lighting TL-9', 'Display table DT-4', 'Glass cabinet GC-12'];

/** A small deterministic generator (mulberry32): the same pipeline on every fresh demo. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A demo later today (UTC) when the day has room, else earlier today: "today" either way. */
function demoToday(now: number, i: number): number {
  const endOfDay = Math.floor(now / DAY) * DAY + DAY - 1;
  const later = now + (i + 1) * 30 * 60_000;
  return later <= endOfDay ? later : now - (i + 1) * 30 * 60_000;
}

/** Rounded to $500, as sales would enter an estimate. */
function arr(value: number): number {
  return Math.max(500, Math.round(value / 500) * 500);
}

function slug(text: string): string {
  return text
    .toLowerCase()
    .normalize('NFD')
    .replace(/[^a-z0-9]/g, '');
}

export type DemoSegment = 'hot' | 'warm' | 'upcoming' | 'cold';

export interface DemoLeadRow {
  external_id: string;
  first_name: string;
  last_name: string;
  title: string;
  email: string;
  phone: string;
  country: string;
  company: string;
  owner_email: string;
  lifecycle: string;
  source: string;
  arr_potential: number;
  demo_scheduled_at: string;
  last_activity_at: string;
  timezone: string;
  consent_email: string;
  consent_sms: string;
}

/**
 * The demo pipeline as rows, deterministic for a given `now`: 12 hot leads (a demo today, ARR
 * potential $30K–$150K: Tier A), 110 warm ones (viewed products in the last days, $5K–$25K:
 * Tier B), 30 with a demo later this week, and the rest of the pipeline (mostly under $10K, a few
 * large accounts gone quiet: Tier C). Owners in turn; every email and phone number unique.
 */
export function demoLeadRows(
  now: number,
  owners: readonly string[],
  count = DEMO_LEAD_COUNT,
): Array<DemoLeadRow & { segment: DemoSegment }> {
  const rnd = random(20_240_611);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)] as T;
  const emails = new Set<string>();
  const companies = COMPANY_STEMS.flatMap((stem, i) =>
    [0, 1, 2].map((k) => `${stem} ${COMPANY_KINDS[(i + k * 3) % COMPANY_KINDS.length]}`),
  );
  return Array.from({ length: count }, (_, i) => {
    const segment: DemoSegment = i < 12 ? 'hot' : i < 122 ? 'warm' : i < 152 ? 'upcoming' : 'cold';
    const first = pick(FIRST);
    const last = pick(LAST);
    const company = companies[i % companies.length] as string;
    const domain = `${slug(company)}.example`;
    let local = `${slug(first)}.${slug(last)}`;
    for (let n = 2; emails.has(`${local}@${domain}`); n++) local = `${slug(first)}.${slug(last)}${n}`;
    const email = `${local}@${domain}`;
    emails.add(email);
    const zone = segment === 'hot' ? null : (ZONES[Math.floor(i / 100) % ZONES.length] ?? null);
    const area = ZONES[Math.floor(i / 100) % ZONES.length]?.area ?? '212';
    // 555-0100 to 555-0199: the numbers set aside for fiction, 100 per area code.
    const phone = `+1${area}5550${String(100 + (i % 100)).padStart(3, '0')}`;
    const r = rnd();
    let value: number;
    let demo = '';
    let activity: number;
    let lifecycle: string;
    if (segment === 'hot') {
      value = 30_000 + r * r * 120_000;
      demo = new Date(demoToday(now, i)).toISOString();
      activity = now - (1 + Math.floor(rnd() * 6)) * HOUR;
      lifecycle = 'opportunity';
    } else if (segment === 'warm') {
      value = 5_000 + r * 20_000;
      activity = now - (2 + Math.floor(rnd() * 70)) * HOUR;
      lifecycle = rnd() < 0.4 ? 'opportunity' : 'sql';
    } else if (segment === 'upcoming') {
      value = 8_000 + r * 40_000;
      demo = new Date(now + (2 + Math.floor(rnd() * 4)) * DAY).toISOString();
      activity = now - (1 + Math.floor(rnd() * 10)) * DAY;
      lifecycle = 'sql';
    } else {
      // Most of the long tail is small; about one in ten is a large account gone quiet.
      value = r < 0.9 ? 500 + (r / 0.9) ** 2 * 9_000 : 12_000 + rnd() * 60_000;
      activity = now - (21 + Math.floor(rnd() * 150)) * DAY;
      lifecycle = rnd() < 0.7 ? 'mql' : 'lead';
    }
    const engaged = segment !== 'cold';
    return {
      segment,
      external_id: `DEMO-${1000 + i}`,
      first_name: first,
      last_name: last,
      title: pick(TITLES),
      email,
      phone,
      country: zone?.country ?? 'US',
      company,
      owner_email: owners[i % owners.length] as string,
      lifecycle,
      source: pick(SOURCES),
      arr_potential: arr(value),
      demo_scheduled_at: demo,
      last_activity_at: new Date(activity).toISOString(),
      timezone: zone?.tz ?? 'UTC',
      consent_email: i % 25 === 24 ? 'denied' : 'granted',
      consent_sms: engaged || rnd() < 0.4 ? 'granted' : 'unknown',
    };
  });
}

export interface DemoCrmResult {
  /** The sales reps' password for this run. */
  password: string;
  /** A few demo leads' emails for the showroom's sign-in page (hot and warm ones first). */
  sampleBuyers: string[];
}

/**
 * The demo's pipeline: four sales reps (with calendar links, working all day) and 500 leads
 * (see demoLeadRows) imported in one set-based import, with recent product views of the catalog's
 * products for the warm and hot ones (for the call scripts and Tier B). Seeded once; the reps'
 * password is new on every start.
 */
export async function seedDemoCrm(services: Services, options: { products?: readonly string[] } = {}): Promise<DemoCrmResult> {
  const password = newSecret(12);
  const now = services.clock.now();
  const owners: string[] = [];
  for (const rep of DEMO_REPS) {
    const existing = await services.auth.findUser(rep.email);
    const id = existing
      ? existing.id
      : (await services.auth.createUser(SEED_ACTOR, { email: rep.email, name: rep.name, role: 'sales', password })).id;
    if (existing) await services.auth.setPassword(SEED_ACTOR, id, password);
    await upsertOwnerProfile(
      services.db.kysely,
      {
        user_id: id,
        phone: null,
        calendar_link: rep.calendar,
        timezone: 'UTC',
        working_hours: { days: [0, 1, 2, 3, 4, 5, 6], start: '00:00', end: '23:59' },
      },
      now,
    );
    owners.push(rep.email);
  }
  const sample = async () =>
    (
      await services.db.kysely
        .selectFrom('leads')
        .select('email')
        .where('external_id', 'in', ['DEMO-1000', 'DEMO-1001', 'DEMO-1012', 'DEMO-1013', 'DEMO-1200'])
        .orderBy('external_id')
        .execute()
    ).flatMap((r) => (r.email ? [r.email] : []));
  const existingLeads = await services.db.kysely.selectFrom('leads').select('id').limit(1).execute();
  if (existingLeads.length > 0) return { password, sampleBuyers: await sample() };

  const rows = demoLeadRows(now, owners);
  const summary = await services.leads.importer.importLeads(
    jsonSource(JSON.stringify(rows.map(({ segment: _, ...row }) => row))),
    {},
  );
  if (summary.errors > 0) throw new Error(`demo leads did not import: ${JSON.stringify(summary.error_list.slice(0, 3))}`);
  const engaged = new Set(rows.filter((r) => r.segment === 'hot' || r.segment === 'warm').map((r) => r.external_id));
  const leads = (
    await services.db.kysely.selectFrom('leads').select(['id', 'external_id']).where('external_id', 'like', 'DEMO-%').execute()
  )
    .filter((l) => l.external_id !== null && engaged.has(l.external_id))
    .sort((a, b) => String(a.external_id).localeCompare(String(b.external_id)));
  const products = options.products && options.products.length > 0 ? options.products : PRODUCTS;
  const events = leads.flatMap((lead, i) =>
    [0, 1].map((k) => ({
      messageId: `demo-view-${lead.id}-${k}`,
      type: 'product_viewed',
      leadId: lead.id,
      product: products[(i * 3 + k) % products.length],
      at: new Date(now - ((i % 48) + k + 1) * HOUR).toISOString(),
    })),
  );
  for (let i = 0; i < events.length; i += 200) await services.intentEvents.record(events.slice(i, i + 200));
  return { password, sampleBuyers: await sample() };
}
