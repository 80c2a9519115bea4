import type { Actor } from '../app/actor.js';
import { startKeepwarm, stopOnSignals } from '../app/runtime.js';
import type { Services } from '../app/services.js';
import { newSecret } from '../core/ids.js';
import { createLogger } from '../core/log.js';
import type { ComponentInput } from '../incidents/components.service.js';
import { seedDefaultTemplates } from '../messaging/default-templates.js';
import { type CommonOptions, configFrom } from './common.js';

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
  const config = configFrom(options, {
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
    },
  });
  const log = createLogger(config.logLevel);
  const running = await startKeepwarm(config, log, ['web', 'worker'], { approveDefaultTemplates: true });
  stopOnSignals(running, log);
  const creds = await seedDemo(running.services);
  // With --port 0 the system picks the port: show the address actually bound.
  const url = config.port === 0 && running.url ? running.url : config.publicUrl;
  const lines = [
    '',
    'Keepwarm demo is running (embedded SQLite, nothing leaves this machine).',
    '',
    `  Console        ${url}/console`,
    `  Status JSON    ${url}/api/v2/summary.json`,
    `  API reference  ${url}/api/openapi.json`,
    `  Templates      ${url}/console/templates   (default library, approved for the demo)`,
    `  Outbox         ${url}/console/outbox      (every channel goes to the sink)`,
    `  Data folder    ${config.dataDir}`,
    '',
    `  Sign in as     ${creds.email}`,
    `  Password       ${creds.password}   (new on every demo start)`,
    `  Admin token    ${creds.token}`,
    '',
    `  Try: curl -H "Authorization: Bearer ${creds.token}" ${url}/api/v1/incidents`,
    '',
    'Press Ctrl+C to stop.',
    '',
  ];
  io.stdout.write(lines.join('\n'));
  await new Promise(() => {});
}
