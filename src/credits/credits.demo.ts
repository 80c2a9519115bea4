import type { Actor } from '../app/actor.js';
import type { Services } from '../app/services.js';
import { HOUR, MINUTE } from '../core/clock.js';
import { IncidentService } from '../incidents/incidents.service.js';
import { previousMonth } from './credits.js';

const SEED_ACTOR: Actor = { type: 'system', id: null, name: 'demo seed', role: 'admin', ip: null };

/** Plans as legal might agree them: an enterprise plan with a tight target, a growth plan with a looser one. */
export const DEMO_POLICIES = {
  enterprise: {
    target_percent: 99.95,
    bands: [
      { below_percent: 99.95, credit_percent: 10 },
      { below_percent: 99.5, credit_percent: 25 },
      { below_percent: 99, credit_percent: 50 },
    ],
    cap_percent: 50,
    partial_outage_weight: 0.5,
    degraded_performance_weight: 0.1,
    approval_threshold_cents: 100_000,
    note: 'Demo policy: agreed with legal for the enterprise MSA',
  },
  growth: {
    target_percent: 99.5,
    bands: [
      { below_percent: 99.5, credit_percent: 5 },
      { below_percent: 99, credit_percent: 10 },
    ],
    cap_percent: 15,
    partial_outage_weight: 0.5,
    degraded_performance_weight: 0,
    approval_threshold_cents: 25_000,
    note: 'Demo policy: standard terms',
  },
} as const;

const DEMO_ACCOUNTS = [
  'external_id,name,plan,monthly_fee,currency,components,regions',
  'ACME-ENT-001,Northwind Fixtures,enterprise,18500.00,USD,Showroom CDN;Showroom origin;Product API,',
  'ACME-ENT-002,Contoso Retail Group,enterprise,9200.00,USD,Showroom CDN;Checkout and quotes,eu-west',
  'ACME-GRW-003,Fabrikam Interiors,growth,2400.00,USD,Product API;3D configurator,us-east',
  'ACME-GRW-004,Tailspin Outfitters,growth,1100.00,USD,Sign-in (SSO),',
].join('\n');

const LAST_MONTH_INCIDENT = 'CDN edge failures in Europe and North America';

/**
 * The demo's SLA credits: two policies, four customer accounts on them, last month's CDN outage
 * (recorded through the incident service as it happened, with a clock set to then) and the month's
 * credits computed, so the approval queue has work. Seeded once; later starts only recompute.
 */
export async function seedDemoCredits(services: Services): Promise<{ month: string }> {
  const { credits, db, bus } = services;
  const plans = new Set((await credits.listPolicies()).map((p) => p.plan));
  for (const [plan, policy] of Object.entries(DEMO_POLICIES))
    if (!plans.has(plan)) await credits.setPolicy(SEED_ACTOR, plan, policy);
  if ((await credits.listAccounts()).length === 0) {
    const imported = await credits.importAccounts(SEED_ACTOR, DEMO_ACCOUNTS);
    if (!imported.applied)
      throw new Error(`demo accounts: ${imported.error_list.map((e) => `row ${e.row} ${e.column}: ${e.message}`).join('; ')}`);
  }
  const month = previousMonth(services.clock.now());
  const known = await services.incidents.list({ limit: 500 });
  const components = new Map((await services.components.list()).map((c) => [c.name, c.id]));
  const cdn = components.get('Showroom CDN');
  const api = components.get('Product API');
  if (!known.some((i) => i.name === LAST_MONTH_INCIDENT) && cdn && api) {
    let at = month.start + 11 * 24 * HOUR + 14 * HOUR + 5 * MINUTE;
    // A service of its own with a clock set to last month: the timeline reads as it happened.
    const past = new IncidentService({ db, clock: { now: () => at }, bus });
    const inc = await past.declare(SEED_ACTOR, {
      name: LAST_MONTH_INCIDENT,
      message: 'Product pages and media fail to load for many buyers. We are working with our CDN provider.',
      components: [{ id: cdn, status: 'major_outage' }],
      started_at: at - 15 * MINUTE,
    });
    at += 50 * MINUTE;
    await past.postUpdate(SEED_ACTOR, inc.incident.id, {
      status: 'identified',
      message: 'Traffic is moving to a second CDN; some pages still load slowly.',
      components: [
        { id: cdn, status: 'partial_outage' },
        { id: api, status: 'degraded_performance' },
      ],
    });
    at += 95 * MINUTE;
    await past.postUpdate(SEED_ACTOR, inc.incident.id, { status: 'resolved', message: 'All product pages load normally again.' });
  }
  await credits.compute(SEED_ACTOR, month.month);
  return { month: month.month };
}
