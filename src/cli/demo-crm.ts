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
] as const;

const FIRST = ['Dana', 'Ravi', 'Lena', 'Marco', 'Aiko', 'Tomás', 'Grace', 'Owen', 'Priya', 'Jonas', 'Mei', 'Sara'];
const LAST = ['Whitfield', 'Patel', 'Novak', 'Rossi', 'Tanaka', 'Silva', 'Okafor', 'Brennan', 'Iyer', 'Berg', 'Chen', 'Haddad'];
const COMPANIES = ['Northwind Fixtures', 'Contoso Retail', 'Fabrikam Stores', 'Tailspin Outfitters', 'Wide World Interiors'];
const PRODUCTS = ['Modular shelving S-200', 'Track lighting TL-9', 'Display table DT-4', 'Glass cabinet GC-12'];

/** A demo later today (UTC) when the day has room, else earlier today: "today" either way. */
function demoToday(now: number, i: number): number {
  const endOfDay = Math.floor(now / DAY) * DAY + DAY - 1;
  const later = now + (i + 1) * 30 * 60_000;
  return later <= endOfDay ? later : now - (i + 1) * 30 * 60_000;
}

/**
 * The demo's pipeline: two sales reps (with calendar links, working all day) and 60 leads whose
 * mix falls into the playbook's tiers when an incident is declared (a few demos today with a large
 * ARR potential, recent product views in the middle, the rest of the pipeline), with product
 * views for the call scripts. Seeded once; the reps' password is new on every start.
 */
export async function seedDemoCrm(services: Services): Promise<{ password: string }> {
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
  const existingLeads = await services.db.kysely.selectFrom('leads').select('id').limit(1).execute();
  if (existingLeads.length > 0) return { password };

  const rows = Array.from({ length: 60 }, (_, i) => {
    const first = FIRST[i % FIRST.length] as string;
    const last = LAST[(i * 7) % LAST.length] as string;
    const company = COMPANIES[i % COMPANIES.length] as string;
    const hot = i < 4;
    const warm = i >= 4 && i < 20;
    return {
      external_id: `DEMO-${1000 + i}`,
      first_name: first,
      last_name: last,
      email: `${first
        .toLowerCase()
        .normalize('NFD')
        .replace(/[^a-z]/g, '')}.${last.toLowerCase()}${i}@${company.split(' ')[0]?.toLowerCase()}.example`,
      phone: `+1415555${String(1000 + i).padStart(4, '0')}`,
      company,
      owner_email: owners[i % owners.length],
      lifecycle: hot ? 'opportunity' : warm ? 'sql' : 'mql',
      arr_potential: hot ? 30_000 + i * 5_000 : warm ? 5_000 + i * 1_000 : 1_000 + i * 100,
      demo_scheduled_at: hot ? new Date(demoToday(now, i)).toISOString() : '',
      last_activity_at: warm || hot ? new Date(now - (i + 1) * HOUR).toISOString() : new Date(now - 40 * DAY).toISOString(),
      timezone: 'UTC',
      consent_email: 'granted',
      consent_sms: warm || hot ? 'granted' : 'unknown',
    };
  });
  const summary = await services.leads.importer.importLeads(jsonSource(JSON.stringify(rows)), {});
  if (summary.errors > 0) throw new Error(`demo leads did not import: ${JSON.stringify(summary.error_list.slice(0, 3))}`);
  const leads = await services.db.kysely
    .selectFrom('leads')
    .select(['id', 'email', 'lifecycle'])
    .where('lifecycle', 'in', ['opportunity', 'sql'])
    .execute();
  await services.intentEvents.record(
    leads.flatMap((lead, i) =>
      [0, 1].map((k) => ({
        messageId: `demo-view-${lead.id}-${k}`,
        type: 'product_viewed',
        leadId: lead.id,
        product: PRODUCTS[(i + k) % PRODUCTS.length],
        at: new Date(now - (k + 1) * HOUR).toISOString(),
      })),
    ),
  );
  return { password };
}
