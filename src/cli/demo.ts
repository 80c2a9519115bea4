import { rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import type { Actor } from '../app/actor.js';
import { startKeepwarm, stopOnSignals } from '../app/runtime.js';
import type { Services } from '../app/services.js';
import { newSecret } from '../core/ids.js';
import { createLogger } from '../core/log.js';
import { seedDemoCredits } from '../credits/credits.demo.js';
import { showroomDrillTarget } from '../demo/showroom/drill-target.js';
import { ENTRY_POINTS, ORIGIN_ENTRY, SCENARIOS } from '../demo/showroom/entry-points.js';
import { writeShowroomControlFile } from '../demo/showroom/showroom.control.js';
import { Showroom } from '../demo/showroom/showroom.js';
import type { MonitorInput } from '../detection/monitors.service.js';
import { DRILL_FILE } from '../drills/drill.command.js';
import { createMirrorServer } from '../fallback/mirror/serve.js';
import type { ComponentInput } from '../incidents/components.service.js';
import { seedDefaultTemplates } from '../messaging/default-templates.js';
import { type CommonOptions, configFrom } from './common.js';
import { seedDemoCatalog } from './demo-catalog.js';
import { DEMO_LEAD_COUNT, DEMO_REPS, seedDemoCrm } from './demo-crm.js';

const SEED_ACTOR: Actor = { type: 'system', id: null, name: 'demo seed', role: 'admin', ip: null };
export const DEMO_ADMIN = 'admin@keepwarm.local';

/** A showroom entry point as a status page component. */
const asComponent = (e: {
  component: string;
  kind: ComponentInput['kind'];
  group: string;
  description: string;
}): ComponentInput => ({
  name: e.component,
  kind: e.kind,
  group: e.group,
  description: e.description,
});

export const DEMO_COMPONENTS: ComponentInput[] = [
  asComponent(ENTRY_POINTS.cdn),
  asComponent(ORIGIN_ENTRY),
  asComponent(ENTRY_POINTS.api),
  asComponent(ENTRY_POINTS['third-party']),
  asComponent(ENTRY_POINTS.auth),
  { name: 'Checkout and quotes', kind: 'checkout', group: 'Accounts', description: 'Carts, quotes and orders' },
];

export interface DemoCredentials {
  email: string;
  password: string;
  token: string;
}

/**
 * Probes of the demo showroom (run by the demo's monitor role): its pages and each of its four
 * entry points' health paths, every 5 s, down after 2 failures in a row, so a drill's break is
 * confirmed within seconds. Paths are joined to the showroom's URL.
 */
export const DEMO_MONITORS: ReadonlyArray<{
  name: string;
  component: string;
  path: string;
  check: { jsonPath: string; jsonEquals: string; degradedMs?: number };
}> = [
  {
    name: 'Showroom pages',
    component: ORIGIN_ENTRY.component,
    path: ORIGIN_ENTRY.healthPath,
    check: { jsonPath: 'status', jsonEquals: 'ok', degradedMs: 500 },
  },
  ...SCENARIOS.map((s) => ({
    name: `${ENTRY_POINTS[s].component} health`,
    component: ENTRY_POINTS[s].component,
    path: ENTRY_POINTS[s].healthPath,
    check: { jsonPath: 'status', jsonEquals: 'ok' },
  })),
];

/** Monitors earlier demos created (probing Keepwarm itself): removed while they still probe that path. */
const OLD_DEMO_MONITORS: Record<string, string> = {
  'Origin liveness': '/healthz',
  'Status API': '/api/v2/summary.json',
  'Sign-in page': '/login',
};

/**
 * Create the demo monitors, or point them at `baseUrl` (the showroom) when it now listens
 * elsewhere (a monitor the user changed in another way is left alone).
 */
export async function seedDemoMonitors(services: Services, baseUrl: string): Promise<void> {
  const existing = await services.monitors.list();
  for (const old of existing) {
    const url = old.type === 'http' ? (old.check as { url?: string }).url : undefined;
    const path = OLD_DEMO_MONITORS[old.name];
    if (path !== undefined && url !== undefined && new URL(url).pathname === path)
      await services.monitors.remove(SEED_ACTOR, old.id);
  }
  for (const demo of DEMO_MONITORS) {
    const target = `${baseUrl}${demo.path}`;
    const input: MonitorInput = {
      component: demo.component,
      name: demo.name,
      type: 'http',
      check: { url: target, timeoutMs: 2_000, ...demo.check },
      interval_seconds: 5,
      failures_to_down: 2,
      successes_to_up: 2,
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

/** The banner preview's public site key (public by design: it is in the page). */
const DEMO_SITE_KEY = 'pk_demo_preview_showroom';
/** The demo showroom's public site key. */
export const SHOWROOM_SITE_KEY = 'pk_demo_acme_showroom';

/** The public URL's origin, and its localhost / 127.0.0.1 twin (a browser may be pointed at either). */
function loopbackOrigins(publicUrl: string): string[] {
  const url = new URL(publicUrl);
  const twin = url.hostname === '127.0.0.1' ? 'localhost' : url.hostname === 'localhost' ? '127.0.0.1' : null;
  const origins = [url.origin];
  if (twin) origins.push(`${url.protocol}//${twin}${url.port ? `:${url.port}` : ''}`);
  return origins;
}

/** A port free right now on host (the system picks it; closed again at once). */
async function freePort(host: string): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
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
  // With --port 0, pick a free port now: the public URL (in the mirror's forms, the banner's
  // links, the drill's probes) must name the port Keepwarm will listen on.
  const asked = configFrom(options, defaults);
  const effective: CommonOptions = asked.port === 0 ? { ...options, port: String(await freePort(asked.host)) } : options;
  const base = configFrom(effective, defaults);
  const publishedDir = join(base.dataDir, 'public-status');
  // The backup catalog is published to a folder too, and served on the next port (another origin,
  // as a mirror host would be).
  const mirrorDir = join(base.dataDir, 'public-mirror', 'catalog');
  const mirrorPort = asked.port === 0 ? 0 : base.port + 1;
  const mirrorServer = createMirrorServer(mirrorDir);
  await new Promise<void>((resolve, reject) => {
    mirrorServer.once('error', reject);
    mirrorServer.listen(mirrorPort, base.host, () => resolve());
  });
  const mirrorUrl = `http://${base.host}:${(mirrorServer.address() as AddressInfo).port}`;
  // The demo showroom (the site Keepwarm protects) on the port after that: it listens now, so its
  // origin can be allowed to post intent events, and serves once Keepwarm runs.
  const showroom = new Showroom();
  const showroomUrl = await showroom.listen(asked.port === 0 ? 0 : base.port + 2, base.host);
  const config = configFrom(effective, {
    ...defaults,
    'status.targets': [{ type: 'folder', name: 'demo-folder', path: publishedDir }],
    'fallback.targets': [{ type: 'folder', name: 'demo-mirror', path: mirrorDir }],
    'fallback.mirrorUrl': mirrorUrl,
    // The banner, messages and call scripts send buyers to this backup catalog.
    'status.fallbackUrl': `${mirrorUrl}/`,
    'messaging.variables': {
      ...(defaults['messaging.variables'] as Record<string, string>),
      fallback_url: `${mirrorUrl}/`,
      assets_url: `${mirrorUrl}/`,
      comparison_url: `${mirrorUrl}/`,
    },
    'fallback.orderOrigins': loopbackOrigins(mirrorUrl),
    'fallback.salesEmail': 'sales@acme.example',
    'fallback.contactPhone': '+1 555 0100',
    // The showroom and the banner preview page embed the events SDK with these public keys.
    'crm.events': {
      sites: [
        { name: 'preview', key: DEMO_SITE_KEY, origins: loopbackOrigins(base.publicUrl) },
        { name: 'showroom', key: SHOWROOM_SITE_KEY, origins: loopbackOrigins(showroomUrl) },
      ],
    },
  });
  const log = createLogger(config.logLevel);
  const running = await startKeepwarm(config, log, ['web', 'worker', 'monitor'], { approveDefaultTemplates: true });
  stopOnSignals(running, log);
  const creds = await seedDemo(running.services);
  const catalog = await seedDemoCatalog(running.services);
  const products = (await running.services.catalog.snapshotFile().catch(() => null))?.products ?? [];
  const crm = await seedDemoCrm(running.services, { products: products.slice(0, 12).map((p) => p.name) });
  // A new catalog snapshot rebuilds the mirror by itself; a data folder from before the mirror gets its first build here.
  if ((await running.services.mirror.history(1)).length === 0) await running.services.mirror.requestRebuild(false);
  const credits = await seedDemoCredits(running.services);
  // The port is known even with --port 0 (picked above), so the public URL is the address bound.
  const url = config.publicUrl;
  showroom.connect({
    catalog: running.services.catalog,
    keepwarmUrl: url,
    siteKey: SHOWROOM_SITE_KEY,
    sampleBuyers: crm.sampleBuyers,
    onError: (err) => log.warn({ err }, 'showroom request failed'),
  });
  // `keepwarm drill` (another process) finds the showroom's control endpoint here; never printed.
  const controlFile = await writeShowroomControlFile(config.dataDir, showroom);
  process.once('exit', () => rmSync(controlFile, { force: true }));
  await seedDemoMonitors(running.services, showroomUrl);
  // Drills break the showroom's entry points in this process; `keepwarm drill` finds Keepwarm and
  // a token in the data folder (readable by its owner only, removed on exit).
  running.services.drills.setTarget(showroomDrillTarget(showroom));
  const drillFile = join(config.dataDir, DRILL_FILE);
  writeFileSync(drillFile, JSON.stringify({ url, token: creds.token }), { mode: 0o600 });
  process.once('exit', () => rmSync(drillFile, { force: true }));
  const health = showroom.healthUrls();
  const searchWord = products[0]?.name.split(/\s+/)[0]?.toLowerCase() ?? 'shelving';
  const alert = JSON.stringify({ status: 'firing', component: '3D configurator', summary: 'Configurator widget fails to load' });
  // The incident report of the latest resolved incident (the credits seed's CDN outage, or a drill's).
  const lastResolved = (await running.services.incidents.list({ open: false, limit: 1 }))[0];
  const reportLines = lastResolved
    ? [
        `  Incident report of "${lastResolved.name}": edit, preview and publish it at`,
        `    ${url}/console/incidents/${lastResolved.id}/report`,
        `  or download it: curl -H "Authorization: Bearer ${creds.token}" "${url}/api/v1/incidents/${lastResolved.id}/report?format=md"`,
        `              or: keepwarm report ${lastResolved.id} --format pdf --out report.pdf --data-dir ${config.dataDir}`,
        '',
      ]
    : ['  After a drill resolves, its incident page links the incident report (keepwarm report INCIDENT --format pdf).', ''];
  const lines = [
    '',
    'Keepwarm demo is running (embedded SQLite, nothing leaves this machine).',
    '',
    `  Showroom       ${showroomUrl}/   (the demo site Keepwarm protects: ${catalog.source === 'fixtures' ? 'the Akeneo icecat catalog' : 'a generated catalog'}, banner and events scripts)`,
    `    CDN          ${health.cdn}`,
    `    Product API  ${health.api}`,
    `    Sign-in      ${health.auth}`,
    `    Configurator ${health['third-party']}   (each probed every 5 s; a drill breaks one)`,
    `  Console        ${url}/console`,
    `  Status page    ${url}/status          (also published as files to ${publishedDir})`,
    `  Banner         ${url}/status/banner-preview   (a stand-in showroom page with the banner and events scripts)`,
    `  Events         ${url}/console/events      (intent events by incident; buffered in the browser through outages)`,
    `  Status JSON    ${url}/api/v2/summary.json`,
    `  API reference  ${url}/api/openapi.json`,
    `  Templates      ${url}/console/templates   (default library, approved for the demo)`,
    `  Outbox         ${url}/console/outbox      (every channel goes to the sink)`,
    `  Health board   ${url}/console/health      (the showroom's pages and four entry points, every 5 s)`,
    `  Leads          ${url}/console/leads       (${DEMO_LEAD_COUNT} demo leads with owners; declaring an incident sorts them into tiers)`,
    `  Backup catalog ${mirrorUrl}/   (static mirror: search, spec sheets, comparisons, purchase orders)`,
    `  Fallback       ${url}/console/fallback    (mirror builds and publishes, kill switches, catalog diffs)`,
    `  Catalog API    ${url}/catalog/v1/products?q=${encodeURIComponent(searchWord)}   (read-only, from the demo catalog snapshot)`,
    `  Kill switches  ${url}/flags.json         (flags turn off while an API incident is open)`,
    `  Privacy        ${url}/console/privacy     (retention settings; export or erase a demo lead)`,
    `  SLA credits    ${url}/console/credits     (${credits.month}: last month's CDN outage, credits to approve)`,
    `  Data folder    ${config.dataDir}`,
    '',
    `  Sign in as     ${creds.email}`,
    `  Password       ${creds.password}   (new on every demo start)`,
    `  Admin token    ${creds.token}`,
    `  Sales rep      ${DEMO_REPS[0].email} / ${crm.password}   (My tasks: the call-now list after a declaration)`,
    ...(crm.sampleBuyers[0]
      ? [`  Showroom buyer ${crm.sampleBuyers[0]} / any password   (a demo lead: their product views reach Events)`]
      : []),
    '',
    `  Try: curl -H "Authorization: Bearer ${creds.token}" ${url}/api/v1/incidents`,
    '',
    '  Rehearse an outage (another terminal, same folder): npx keepwarm drill --scenario api',
    `    it breaks the Product API, lets the playbook run, restores it and prints a scorecard; history at ${url}/console/drills`,
    '',
    ...reportLines,
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
