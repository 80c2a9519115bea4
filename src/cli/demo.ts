import { join } from 'node:path';
import type { Actor } from '../app/actor.js';
import { startKeepwarm, stopOnSignals } from '../app/runtime.js';
import type { Services } from '../app/services.js';
import { newSecret } from '../core/ids.js';
import { createLogger } from '../core/log.js';
import type { MonitorInput } from '../detection/monitors.service.js';
import type { ComponentInput } from '../incidents/components.service.js';
import { seedDefaultTemplates } from '../messaging/default-templates.js';
import { type CommonOptions, configFrom } from './common.js';
import { seedDemoCatalog } from './demo-catalog.js';
import { DEMO_REPS, seedDemoCrm } from './demo-crm.js';

const SEED_ACTOR: Actor = { type: 'system', id: null, name: 'demo seed', role: 'admin', ip: null };
export const DEMO_ADMIN = 'admin@keepwarm.local';

export const DEMO_COMPONENTS: ComponentInput[] = [
  { name: 'Showroom CDN', kind: 'cdn', group: 'Digital showroom', description: 'Edge delivery of showroom pages and media' },
  { name: 'Showroom origin', kind: 'origin', group: 'Digital showroom', description: 'Server-rendered product pages' },
  { name: 'Product API', kind: 'api', group: 'Digital showroom', description: 'Catalog, pricing and availability' },
  {
    name: '3D configurator',
    kind: 'third_party',
    group: 'Digital showroom',
    description: 'Embedded product configurator widget',
  },
  { name: 'Sign-in (SSO)', kind: 'auth', group: 'Accounts', description: 'Buyer sign-in and account pages' },
  { name: 'Checkout and quotes', kind: 'checkout', group: 'Accounts', description: 'Carts, quotes and orders' },
];

export interface DemoCredentials {
  email: string;
  password: string;
  token: string;
}

/**
 * Probes of the demo's own endpoints (run by the demo's monitor role), so the health board has
 * live data. Paths are joined to the URL the demo listens on.
 */
export const DEMO_MONITORS = [
  {
    name: 'Origin liveness',
    component: 'Showroom origin',
    path: '/healthz',
    check: { jsonPath: 'status', jsonEquals: 'ok', degradedMs: 500 },
  },
  { name: 'Status API', component: 'Product API', path: '/api/v2/summary.json', check: { jsonPath: 'page.id' } },
  { name: 'Sign-in page', component: 'Sign-in (SSO)', path: '/login', check: { bodyContains: '<form' } },
] as const;

/**
 * Create the demo monitors, or point them at `baseUrl` when the demo now listens elsewhere (a
 * monitor the user changed in another way is left alone).
 */
export async function seedDemoMonitors(services: Services, baseUrl: string): Promise<void> {
  const existing = await services.monitors.list();
  for (const demo of DEMO_MONITORS) {
    const target = `${baseUrl}${demo.path}`;
    const input: MonitorInput = {
      component: demo.component,
      name: demo.name,
      type: 'http',
      check: { url: target, timeoutMs: 2_000, ...demo.check },
      interval_seconds: 10,
      regions: [],
    };
    const found = existing.find((m) => m.name === demo.name);
    if (!found) {
      await services.monitors.create(SEED_ACTOR, input);
      continue;
    }
    const url = found.type === 'http' ? (found.check as { url?: string }).url : undefined;
    if (url !== undefined && url !== target && new URL(url).pathname === demo.path) {
      await services.monitors.update(SEED_ACTOR, found.id, input);
    }
  }
}

/**
 * Seed once (components), refresh every run (the admin's password and a demo API token), so a
 * restarted demo prints credentials that work.
 */
export async function seedDemo(services: Services): Promise<DemoCredentials> {
  const password = newSecret(12);
  const existing = await services.auth.findUser(DEMO_ADMIN);
  if (existing) await services.auth.setPassword(SEED_ACTOR, existing.id, password);
  else await services.auth.createUser(SEED_ACTOR, { email: DEMO_ADMIN, name: 'Demo Admin', role: 'admin', password });

  for (const old of await services.auth.listTokens()) {
    if (old.name === 'demo' && old.revoked_at === null) await services.auth.revokeToken(SEED_ACTOR, old.id);
  }
  const { token } = await services.auth.createToken(SEED_ACTOR, { name: 'demo', role: 'admin' });

  // Approved for the demo (startKeepwarm installs them so already, when the demo starts it).
  await seedDefaultTemplates(services.db, services.clock, { approve: true });

  if ((await services.components.list()).length === 0) {
    for (const component of DEMO_COMPONENTS) await services.components.create(SEED_ACTOR, component);
  }
  // The default template library, approved without legal review: demo only.
  return { email: DEMO_ADMIN, password, token };
}

export async function runDemo(options: CommonOptions, io: { stdout: NodeJS.WritableStream }): Promise<void> {
  // Alerts from the team's own monitoring: the generic JSON hook, with a token for this run.
  const intakeToken = newSecret(18);
  const defaults: Record<string, unknown> = {
    dataDir: './data/demo',
    'status.includeDrills': true,
    'status.pageName': 'Acme Showroom status',
    logLevel: 'warn',
    // Every channel goes to the sink: the outbox shows what would have been sent, nothing leaves.
    'messaging.sink': true,
    'messaging.from': 'Acme Industrial <updates@acme.example>',
    'messaging.postalAddress': 'Acme Industrial, 100 Demo Street, Springfield',
    'messaging.variables': {
      company: 'Acme Industrial',
      sender_name: 'The Acme sales team',
      support_email: 'support@acme.example',
      calendar_link: 'https://calendar.acme.example/book',
      fallback_url: 'https://catalog.acme.example',
      assets_url: 'https://catalog.acme.example/downloads',
      webinar_url: 'https://acme.example/webinars/showroom-tour',
      comparison_url: 'https://catalog.acme.example/compare',
    },
    'detection.intake': { generic: { token: intakeToken } },
    // No gap longer than the promise: a pre-approved holding update goes out at the deadline.
    'status.cadence.holdingUpdates': true,
  };
  // The status page, feeds, JSON and banner are also published as static files on every change,
  // into the data folder (wherever flags or the environment put it).
  const publishedDir = join(configFrom(options, defaults).dataDir, 'public-status');
  const config = configFrom(options, {
    ...defaults,
    'status.targets': [{ type: 'folder', name: 'demo-folder', path: publishedDir }],
  });
  const log = createLogger(config.logLevel);
  const running = await startKeepwarm(config, log, ['web', 'worker', 'monitor'], { approveDefaultTemplates: true });
  stopOnSignals(running, log);
  const creds = await seedDemo(running.services);
  const crm = await seedDemoCrm(running.services);
  await seedDemoCatalog(running.services);
  // With --port 0 the system picks the port: show the address actually bound.
  const url = config.port === 0 && running.url ? running.url : config.publicUrl;
  await seedDemoMonitors(running.services, running.url ?? url);
  const alert = JSON.stringify({ status: 'firing', component: '3D configurator', summary: 'Configurator widget fails to load' });
  const lines = [
    '',
    'Keepwarm demo is running (embedded SQLite, nothing leaves this machine).',
    '',
    `  Console        ${url}/console`,
    `  Status page    ${url}/status          (also published as files to ${publishedDir})`,
    `  Banner         ${url}/status/banner-preview   (a stand-in showroom page with the banner script)`,
    `  Status JSON    ${url}/api/v2/summary.json`,
    `  API reference  ${url}/api/openapi.json`,
    `  Templates      ${url}/console/templates   (default library, approved for the demo)`,
    `  Outbox         ${url}/console/outbox      (every channel goes to the sink)`,
    `  Health board   ${url}/console/health      (the demo probes its own endpoints every 10 s)`,
    `  Leads          ${url}/console/leads       (60 demo leads; declaring an incident sorts them into tiers)`,
    `  Catalog API    ${url}/catalog/v1/products?q=shelving   (read-only, from the demo catalog snapshot)`,
    `  Kill switches  ${url}/flags.json         (flags turn off while an API incident is open)`,
    `  Data folder    ${config.dataDir}`,
    '',
    `  Sign in as     ${creds.email}`,
    `  Password       ${creds.password}   (new on every demo start)`,
    `  Admin token    ${creds.token}`,
    `  Sales rep      ${DEMO_REPS[0].email} / ${crm.password}   (My tasks: the call-now list after a declaration)`,
    '',
    `  Try: curl -H "Authorization: Bearer ${creds.token}" ${url}/api/v1/incidents`,
    '',
    '  Send an alert as your monitoring would; the health board then suggests an incident to confirm:',
    `  curl -H "Authorization: Bearer ${intakeToken}" -H "Content-Type: application/json" \\`,
    `       -d '${alert}' ${url}/api/v1/hooks/generic`,
    '',
    'Press Ctrl+C to stop.',
    '',
  ];
  io.stdout.write(lines.join('\n'));
  await new Promise(() => {});
}
