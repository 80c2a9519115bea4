import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';

/**
 * The one configuration object. It is read from an optional YAML file, then the environment,
 * then command-line flags (each overriding the one before). Nothing else reads process.env.
 */
const port = z.coerce
  .number({ error: 'expected a port number' })
  .int('expected a whole number')
  .min(0, 'expected a port between 0 and 65535')
  .max(65535, 'expected a port between 0 and 65535');

const durationSeconds = z.coerce.number({ error: 'expected a number of seconds' }).positive('expected more than 0');

const BOOL_WORDS: Record<string, boolean> = { true: true, false: false, '1': true, '0': false, yes: true, no: false };
const bool = z.preprocess(
  (v) => (typeof v === 'string' && v.toLowerCase() in BOOL_WORDS ? BOOL_WORDS[v.toLowerCase()] : v),
  z.boolean({ error: 'expected true or false' }),
);

export const configSchema = z.strictObject({
  dataDir: z.string().min(1, 'expected a folder path').default('./data'),
  databaseUrl: z
    .string()
    .refine((v) => /^(postgres|postgresql|sqlite|file):/.test(v) || !v.includes('://'), {
      error: 'expected postgres://…, sqlite:PATH or a file path',
    })
    .optional(),
  port: port.default(8080),
  host: z.string().min(1).default('127.0.0.1'),
  publicUrl: z.url({ error: 'expected an absolute http(s) URL' }).optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  trustProxy: bool.default(false),
  status: z
    .strictObject({
      pageName: z.string().min(1).default('Showroom status'),
      includeDrills: bool.default(false),
      /** Where buyers go while the showroom is down (the banner's link); messaging.variables.fallback_url otherwise. */
      fallbackUrl: z.url().optional(),
      /** Static targets the status page, feeds, JSON and banner are published to on every change. */
      targets: z
        .array(
          z.discriminatedUnion('type', [
            z.strictObject({
              type: z.literal('folder'),
              name: z.string().min(1),
              /** Folder a web server serves; written atomically (a reader never sees half an update). */
              path: z.string().min(1),
            }),
            z.strictObject({
              type: z.literal('s3'),
              name: z.string().min(1),
              bucket: z.string().min(1),
              prefix: z.string().default(''),
              region: z.string().default('us-east-1'),
              /** S3-compatible endpoint (MinIO, R2, …); AWS otherwise. */
              endpoint: z.url().optional(),
              forcePathStyle: bool.default(false),
              accessKeyId: z.string().min(1).optional(),
              secretAccessKey: z.string().min(1).optional(),
            }),
          ]),
        )
        .default([]),
      cadence: z
        .strictObject({
          /** The first public update is due this long after declaration. */
          acknowledgeMinutes: z.coerce.number().positive().default(15),
          /** The promised interval between public updates (what the status page says). */
          promiseMinutes: z.coerce.number().positive().default(60),
          /** The team's own target interval (reminders aim at it). */
          targetMinutes: z.coerce.number().positive().default(30),
          /** Remind the commander this long before an update is due. */
          remindMinutesBefore: z.coerce.number().min(0).default(5),
          /** Role escalated to when a deadline passes with no update. */
          backupRole: z.enum(['admin', 'commander', 'marketing', 'sales', 'legal', 'viewer']).default('admin'),
          /** Publish a pre-approved holding update at the deadline so no gap exceeds the promise. */
          holdingUpdates: bool.default(false),
        })
        .prefault({}),
      drafter: z
        .strictObject({
          /** OpenAI-compatible chat-completions endpoint (base URL, e.g. http://127.0.0.1:11434/v1); off when unset. */
          llmBaseUrl: z.url().optional(),
          llmModel: z.string().min(1).default('gpt-4o-mini'),
          llmApiKey: z.string().min(1).optional(),
          llmTimeoutSeconds: z.coerce.number().positive().default(10),
        })
        .prefault({}),
    })
    .prefault({}),
  auth: z
    .strictObject({
      sessionHours: durationSeconds.default(12),
      loginAttempts: z.coerce.number().int().min(1).default(5),
      loginWindowMinutes: durationSeconds.default(15),
    })
    .prefault({}),
  /** Signs unsubscribe links and outbound webhooks. Default: generated once and kept in the database. */
  secret: z.string().min(32, 'expected at least 32 characters').optional(),
  messaging: z
    .strictObject({
      /** Every channel goes to the sink provider (the console shows what would have been sent). */
      sink: bool.default(false),
      from: z.string().min(3).default('Keepwarm <status@keepwarm.invalid>'),
      replyTo: z.string().optional(),
      /** Postal address in the footer of marketing mail (CAN-SPAM); marketing email is refused without it. */
      postalAddress: z.string().min(5).optional(),
      quietHoursStart: z
        .string()
        .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM')
        .default('08:00'),
      quietHoursEnd: z
        .string()
        .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM')
        .default('21:00'),
      defaultTimezone: z.string().default('UTC'),
      /** Default template variables (company, sender_name, support_email, calendar_link, …). */
      variables: z.record(z.string(), z.string()).default({}),
      emailPerSecond: z.coerce.number().positive().default(50),
    })
    .prefault({}),
  smtp: z
    .strictObject({
      url: z
        .string()
        .regex(/^smtps?:\/\//, 'expected smtp://… or smtps://…')
        .optional(),
      fallbackUrl: z
        .string()
        .regex(/^smtps?:\/\//, 'expected smtp://… or smtps://…')
        .optional(),
      maxConnections: z.coerce.number().int().min(1).max(100).default(5),
      timeoutSeconds: durationSeconds.default(20),
    })
    .prefault({}),
  twilio: z
    .strictObject({
      accountSid: z
        .string()
        .regex(/^AC[0-9a-fA-F]{32}$/, 'expected an Account SID: AC followed by 32 hex digits')
        .optional(),
      authToken: z.string().min(8).optional(),
      baseUrl: z.url().default('https://api.twilio.com'),
      from: z
        .string()
        .regex(/^\+[1-9]\d{6,14}$/, 'expected an E.164 number such as +15005550006')
        .optional(),
      /** Messages per second per sender number (1 for a long code). */
      perSenderPerSecond: z.coerce.number().positive().default(1),
      fallback: z
        .strictObject({
          accountSid: z.string().regex(/^AC[0-9a-fA-F]{32}$/, 'expected an Account SID'),
          authToken: z.string().min(8),
          baseUrl: z.url().default('https://api.twilio.com'),
          from: z.string().regex(/^\+[1-9]\d{6,14}$/, 'expected an E.164 number'),
        })
        .optional(),
    })
    .prefault({}),
  slack: z.strictObject({ webhookUrl: z.url().optional() }).prefault({}),
  mastodon: z
    .strictObject({
      url: z.url().optional(),
      accessToken: z.string().min(8).optional(),
      visibility: z.enum(['public', 'unlisted', 'private']).default('public'),
      characterLimit: z.coerce.number().int().min(50).default(500),
    })
    .prefault({}),
  webhooks: z.array(z.strictObject({ name: z.string().min(1), url: z.url(), secret: z.string().min(24) })).default([]),
  detection: z
    .strictObject({
      /** What a confirmed outage does: declare an incident, suggest one to the commander, or nothing. */
      declare: z.enum(['auto', 'suggest', 'off']).default('suggest'),
      /** A suggestion nobody confirms or dismisses is declared after this long. */
      confirmWithinMinutes: z.coerce.number().positive().default(5),
      /** Region name of the probes this process runs itself (the monitor role). */
      region: z.string().min(1).default('local'),
      failuresToDown: z.coerce.number().int().min(1).max(20).default(2),
      successesToUp: z.coerce.number().int().min(1).max(20).default(2),
      /** Alert intake: label rules mapping alerts to components (first match wins). */
      rules: z
        .array(
          z.strictObject({
            match: z.record(z.string(), z.string()).describe('label → value (exact, or /regex/)'),
            component: z.string().min(1).describe('component name or id'),
            severity: z.enum(['down', 'degraded']).default('down'),
          }),
        )
        .default([]),
      /** Per-source secrets: a bearer token, or an HMAC key for sources that sign. */
      intake: z
        .record(z.string(), z.strictObject({ token: z.string().min(16).optional(), hmacSecret: z.string().min(16).optional() }))
        .default({}),
      beacons: z
        .strictObject({
          /** Showroom origins allowed to post beacons (CORS). */
          origins: z.array(z.string()).default([]),
          /** Hosts of each component, to match failed resource loads and fetches. */
          hosts: z.record(z.string(), z.array(z.string())).default({}),
          errorRate: z.coerce.number().min(0).max(1).default(0.2),
          minEvents: z.coerce.number().int().min(1).default(20),
        })
        .prefault({}),
    })
    .prefault({}),
  crm: z
    .strictObject({
      /**
       * Tier rules, in order: the first whose every condition holds decides the lead's tier.
       * Default: the playbook's matrix (Tier A demo today and > $25K ARR potential; Tier B recent
       * product views or cart activity and $5K–$25K; Tier C the rest).
       */
      tiers: z
        .array(
          z.strictObject({
            name: z.string().min(1),
            tier: z.enum(['A', 'B', 'C']),
            when: z
              .strictObject({
                /** A demo is scheduled within the same calendar day (lead's timezone) as the declaration. */
                demoToday: bool.optional(),
                /** ARR potential strictly above this many dollars. */
                arrAbove: z.coerce.number().min(0).optional(),
                /** ARR potential at least / at most this many dollars. */
                arrAtLeast: z.coerce.number().min(0).optional(),
                arrAtMost: z.coerce.number().min(0).optional(),
                /** A product view or cart update within this many days (intent events or last activity). */
                activeWithinDays: z.coerce.number().positive().optional(),
                lifecycle: z.array(z.enum(['lead', 'mql', 'sql', 'opportunity', 'customer'])).optional(),
              })
              .default({}),
          }),
        )
        .default([
          { name: 'demo today, ARR over $25K', tier: 'A', when: { demoToday: true, arrAbove: 25_000 } },
          {
            name: 'recent views or cart, $5K-$25K',
            tier: 'B',
            when: { activeWithinDays: 7, arrAtLeast: 5_000, arrAtMost: 25_000 },
          },
          { name: 'rest of the pipeline', tier: 'C', when: {} },
        ]),
      /** Owner tasks also for accounts above this ARR (dollars) or with a demo scheduled. */
      taskArrAbove: z.coerce.number().min(0).default(10_000),
      /** Tier A "call now" tasks are due this long after declaration. */
      callWithinMinutes: z.coerce.number().positive().default(15),
      /** Custom CSV header → lead field mapping, on top of the HubSpot and Salesforce names. */
      importMapping: z.record(z.string(), z.string()).default({}),
      /** The team's CRM receives tag changes in batches (Standard Webhooks signed). */
      webhook: z.strictObject({ url: z.url(), secret: z.string().min(24) }).optional(),
      hubspot: z
        .strictObject({
          /** Default https://api.hubapi.com; a stand-in in tests. */
          baseUrl: z.url().default('https://api.hubapi.com'),
          accessToken: z.string().min(8).optional(),
        })
        .prefault({}),
    })
    .prefault({}),
  fallback: z
    .strictObject({
      /** Mirror origins (scheme://host[:port]) whose pages may read the offline order endpoint's answers (CORS). */
      orderOrigins: z.array(z.string()).default([]),
      /** Where offline purchase orders are emailed (template email.offline_order); unset: stored and shown in the console only. */
      salesEmail: z.email({ error: 'expected an email address' }).optional(),
    })
    .prefault({}),
  web: z
    .strictObject({
      processes: z.coerce.number().int('expected a whole number').min(1, 'expected at least 1').max(64).default(1),
    })
    .prefault({}),
  jobs: z
    .strictObject({
      concurrency: z.coerce.number().int().min(1).max(1024).default(32),
      leaseSeconds: durationSeconds.default(30),
      maxAttempts: z.coerce.number().int().min(1).max(100).default(10),
      pollMilliseconds: z.coerce.number().int().min(10).default(200),
    })
    .prefault({}),
});

export type ConfigInput = z.input<typeof configSchema>;
type ParsedConfig = z.output<typeof configSchema>;
export type Config = Omit<ParsedConfig, 'databaseUrl' | 'publicUrl'> & {
  databaseUrl: string;
  publicUrl: string;
  /** Where the values came from, for messages (file path or null). */
  configFile: string | null;
};

/** Environment variables and the config key each sets. The README's table is this list. */
export const ENV_KEYS: ReadonlyArray<{ env: string; key: string; description: string }> = [
  { env: 'KEEPWARM_DATA_DIR', key: 'dataDir', description: 'Folder for the SQLite file and published files (default ./data).' },
  {
    env: 'KEEPWARM_DATABASE_URL',
    key: 'databaseUrl',
    description: 'Default: a SQLite file in the data folder. postgres://… switches to PostgreSQL.',
  },
  { env: 'KEEPWARM_PORT', key: 'port', description: 'HTTP port (default 8080).' },
  { env: 'KEEPWARM_HOST', key: 'host', description: 'Address to listen on (default 127.0.0.1).' },
  {
    env: 'KEEPWARM_PUBLIC_URL',
    key: 'publicUrl',
    description: 'The URL people and providers reach Keepwarm at (default http://HOST:PORT).',
  },
  { env: 'KEEPWARM_LOG_LEVEL', key: 'logLevel', description: 'fatal, error, warn, info (default), debug, trace, silent.' },
  { env: 'KEEPWARM_TRUST_PROXY', key: 'trustProxy', description: 'Trust X-Forwarded-* from a reverse proxy (default false).' },
  {
    env: 'KEEPWARM_STATUS_PAGE_NAME',
    key: 'status.pageName',
    description: 'Name shown on the status page and in Statuspage JSON.',
  },
  {
    env: 'KEEPWARM_STATUS_INCLUDE_DRILLS',
    key: 'status.includeDrills',
    description: 'Show drill incidents on the public status API (default false; the demo turns it on).',
  },
  {
    env: 'KEEPWARM_SESSION_HOURS',
    key: 'auth.sessionHours',
    description: 'Console session lifetime since last use (default 12).',
  },
  { env: 'KEEPWARM_JOBS_CONCURRENCY', key: 'jobs.concurrency', description: 'Jobs a worker runs at once (default 32).' },
  {
    env: 'KEEPWARM_JOBS_LEASE_SECONDS',
    key: 'jobs.leaseSeconds',
    description: 'Lease on a claimed job before another worker may take it (default 30).',
  },
  { env: 'KEEPWARM_JOBS_MAX_ATTEMPTS', key: 'jobs.maxAttempts', description: 'Attempts before a job is dead (default 10).' },
  {
    env: 'KEEPWARM_SECRET',
    key: 'secret',
    description: 'Signing secret for unsubscribe links and webhooks (default: generated, kept in the database).',
  },
  {
    env: 'KEEPWARM_MESSAGING_SINK',
    key: 'messaging.sink',
    description: 'Send every message to the sink provider instead of real channels (default false).',
  },
  { env: 'KEEPWARM_MAIL_FROM', key: 'messaging.from', description: 'From address of outgoing mail.' },
  {
    env: 'KEEPWARM_POSTAL_ADDRESS',
    key: 'messaging.postalAddress',
    description: 'Postal address in the footer of marketing mail (required to send it).',
  },
  { env: 'KEEPWARM_SMTP_URL', key: 'smtp.url', description: 'Primary SMTP server, smtp://user:pass@host:port or smtps://….' },
  {
    env: 'KEEPWARM_SMTP_FALLBACK_URL',
    key: 'smtp.fallbackUrl',
    description: 'Secondary SMTP server, used when the primary is unreachable or failing.',
  },
  { env: 'KEEPWARM_TWILIO_ACCOUNT_SID', key: 'twilio.accountSid', description: 'Twilio Account SID for SMS.' },
  {
    env: 'KEEPWARM_TWILIO_AUTH_TOKEN',
    key: 'twilio.authToken',
    description: 'Twilio auth token (also verifies inbound webhooks).',
  },
  {
    env: 'KEEPWARM_TWILIO_BASE_URL',
    key: 'twilio.baseUrl',
    description: 'Twilio REST base URL (default https://api.twilio.com).',
  },
  { env: 'KEEPWARM_TWILIO_FROM', key: 'twilio.from', description: 'Sender number, E.164.' },
  { env: 'KEEPWARM_SLACK_WEBHOOK_URL', key: 'slack.webhookUrl', description: 'Slack incoming webhook for internal updates.' },
  { env: 'KEEPWARM_MASTODON_URL', key: 'mastodon.url', description: 'Mastodon instance for public posts.' },
  { env: 'KEEPWARM_MASTODON_TOKEN', key: 'mastodon.accessToken', description: 'Mastodon access token (write:statuses).' },
  {
    env: 'KEEPWARM_FALLBACK_URL',
    key: 'status.fallbackUrl',
    description: "Where buyers go while the showroom is down: the banner's link.",
  },
  {
    env: 'KEEPWARM_CADENCE_PROMISE_MINUTES',
    key: 'status.cadence.promiseMinutes',
    description: 'Promised interval between public updates (default 60).',
  },
  {
    env: 'KEEPWARM_HOLDING_UPDATES',
    key: 'status.cadence.holdingUpdates',
    description: 'Publish a pre-approved holding update when an update deadline passes (default false).',
  },
  {
    env: 'KEEPWARM_DRAFTER_LLM_URL',
    key: 'status.drafter.llmBaseUrl',
    description: 'OpenAI-compatible endpoint for update drafts (off by default; the deterministic draft is the fallback).',
  },
  { env: 'KEEPWARM_DRAFTER_LLM_KEY', key: 'status.drafter.llmApiKey', description: 'API key for the drafter endpoint.' },
  { env: 'KEEPWARM_HUBSPOT_TOKEN', key: 'crm.hubspot.accessToken', description: 'HubSpot private app token (CRM v3).' },
  {
    env: 'KEEPWARM_HUBSPOT_BASE_URL',
    key: 'crm.hubspot.baseUrl',
    description: 'HubSpot API base URL (default https://api.hubapi.com).',
  },
  {
    env: 'KEEPWARM_DETECTION_DECLARE',
    key: 'detection.declare',
    description: 'Confirmed outages: auto (declare), suggest (commander confirms; default), off.',
  },
  {
    env: 'KEEPWARM_DETECTION_REGION',
    key: 'detection.region',
    description: 'Region name of the probes this process runs (default local).',
  },
  {
    env: 'KEEPWARM_WEB_PROCESSES',
    key: 'web.processes',
    description: 'Web processes sharing the port (default 1; one per core serves a status surge best).',
  },
];

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export interface LoadConfigOptions {
  /** Process environment (only the KEEPWARM_* keys are read). */
  env?: Record<string, string | undefined>;
  /** Explicit config file; otherwise KEEPWARM_CONFIG, otherwise ./keepwarm.yaml when present. */
  file?: string | undefined;
  /** Values from command-line flags, by config key ("port", "dataDir"). Highest precedence. */
  overrides?: Record<string, unknown>;
  /** Defaults a command applies under the file, env and flags (the demo's data folder). */
  defaults?: Record<string, unknown>;
  cwd?: string;
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== 'object' || next === null) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1] as string] = value;
}

function readFileLayer(file: string, problems: string[]): Record<string, unknown> {
  const text = readFileSync(file, 'utf8');
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      const at = e.linePos?.[0];
      problems.push(`${file}${at ? `:${at.line}:${at.col}` : ''}: ${e.message.split('\n')[0]}`);
    }
    return {};
  }
  const value = doc.toJS() as unknown;
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    problems.push(`${file}: expected a mapping of settings at the top level`);
    return {};
  }
  return value as Record<string, unknown>;
}

export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? {};
  const cwd = options.cwd ?? process.cwd();
  const problems: string[] = [];
  const sources = new Map<string, string>();

  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options.defaults ?? {})) {
    if (value !== undefined) setPath(raw, key, value);
  }

  let file: string | null = null;
  const fileOption = options.file ?? env.KEEPWARM_CONFIG;
  if (fileOption) {
    file = isAbsolute(fileOption) ? fileOption : resolve(cwd, fileOption);
    if (!existsSync(file)) problems.push(`config file ${fileOption}: not found`);
  } else if (existsSync(join(cwd, 'keepwarm.yaml'))) {
    file = join(cwd, 'keepwarm.yaml');
  }
  if (file && existsSync(file)) {
    const layer = readFileLayer(file, problems);
    for (const [key, value] of Object.entries(layer)) {
      if (typeof value === 'object' && value !== null && !Array.isArray(value) && typeof raw[key] === 'object') {
        raw[key] = { ...(raw[key] as object), ...value };
      } else {
        raw[key] = value;
      }
      sources.set(key, `${fileOption ?? 'keepwarm.yaml'}`);
    }
  }

  for (const { env: name, key } of ENV_KEYS) {
    const value = env[name];
    if (value !== undefined && value !== '') {
      setPath(raw, key, value);
      sources.set(key, name);
    }
  }
  for (const [key, value] of Object.entries(options.overrides ?? {})) {
    if (value !== undefined) {
      setPath(raw, key, value);
      sources.set(key, `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`).replaceAll('.', '-')}`);
    }
  }

  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = issue.path.join('.');
      const source = sources.get(key) ?? sources.get(String(issue.path[0] ?? ''));
      const label = key === '' ? '(top level)' : key;
      let message = issue.message;
      if (issue.code === 'unrecognized_keys') {
        message = `unknown setting${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
      }
      const got = getPath(raw, issue.path);
      const gotText = got === undefined || issue.code === 'unrecognized_keys' ? '' : `, got ${JSON.stringify(got)}`;
      problems.push(`${label}${source ? ` (from ${source})` : ''}: ${message}${gotText}`);
    }
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);

  const value = parsed.data;
  const dataDir = resolve(cwd, value.dataDir);
  const databaseUrl = value.databaseUrl ?? `sqlite:${join(dataDir, 'keepwarm.sqlite')}`;
  const host =
    value.host === '0.0.0.0' || value.host === '::' ? 'localhost' : value.host.includes(':') ? `[${value.host}]` : value.host;
  const publicUrl = (value.publicUrl ?? `http://${host}:${value.port}`).replace(/\/+$/, '');
  return { ...value, dataDir, databaseUrl, publicUrl, configFile: file };
}

function getPath(obj: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let node: unknown = obj;
  for (const part of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<PropertyKey, unknown>)[part];
  }
  return node;
}
