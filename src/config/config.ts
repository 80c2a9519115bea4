import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { loadPlaybook } from '../playbook/load.js';
import { formatProblem as formatPlaybookProblem, type Playbook, PlaybookError } from '../playbook/playbook.js';

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

/** A retention period in whole days; 0 or null (empty) keeps the data. Parsed as null for "keep". */
export const retentionDays = z.preprocess(
  (v) => (v === null || (typeof v === 'string' && v.trim() === '') ? null : v),
  z.coerce
    .number({ error: 'expected a whole number of days (0 keeps the data)' })
    .int('expected a whole number of days (0 keeps the data)')
    .min(0, 'expected 0 (keep) or more days')
    .max(3650, 'expected at most 3650 days (10 years); 0 keeps the data')
    .nullable()
    .transform((n) => (n === 0 ? null : n)),
);

/** A static target something is published to: a folder a web server serves, or an S3-compatible bucket. */
const publishTarget = z.discriminatedUnion('type', [
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
]);

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
  /** The playbook file (default playbooks/showroom.yaml; the built-in playbook when that is absent). */
  playbook: z.string().min(1).optional(),
  status: z
    .strictObject({
      pageName: z.string().min(1).default('Showroom status'),
      includeDrills: bool.default(false),
      /** Where buyers go while the showroom is down (the banner's link); messaging.variables.fallback_url otherwise. */
      fallbackUrl: z.url().optional(),
      /** Static targets the status page, feeds, JSON and banner are published to on every change. */
      targets: z.array(publishTarget).default([]),
      /** Deprecated: the playbook's `cadence` section. Still honoured, over the playbook. */
      cadence: z
        .strictObject({
          acknowledgeMinutes: z.coerce.number().positive().optional(),
          promiseMinutes: z.coerce.number().positive().optional(),
          targetMinutes: z.coerce.number().positive().optional(),
          remindMinutesBefore: z.coerce.number().min(0).optional(),
          backupRole: z.enum(['admin', 'commander', 'marketing', 'sales', 'legal', 'viewer']).optional(),
          holdingUpdates: bool.optional(),
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
      /** Deprecated here (the playbook's detection section); still honoured, over the playbook. */
      declare: z.enum(['auto', 'suggest', 'off']).optional(),
      confirmWithinMinutes: z.coerce.number().positive().optional(),
      failuresToDown: z.coerce.number().int().min(1).max(20).optional(),
      successesToUp: z.coerce.number().int().min(1).max(20).optional(),
      /** Region name of the probes this process runs itself (the monitor role). */
      region: z.string().min(1).default('local'),
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
      /** Deprecated: the playbook's crm.tiers. Still honoured, over the playbook. */
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
        .optional(),
      /** Deprecated: the playbook's crm.taskArrAbove and crm.callWithin. Still honoured, over the playbook. */
      taskArrAbove: z.coerce.number().min(0).optional(),
      callWithinMinutes: z.coerce.number().positive().optional(),
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
      /** The browser SDK's event buffer (web/sdk/keepwarm-events.js): public per-site keys, limits. */
      events: z
        .strictObject({
          sites: z
            .array(
              z.strictObject({
                name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'expected a short name: a-z, 0-9 and -'),
                /** Public (it is in the page): it only lets pages of the origins below post events. */
                key: z
                  .string()
                  .regex(/^pk_[A-Za-z0-9_-]{16,100}$/, 'expected pk_ followed by at least 16 letters, digits, _ or -'),
                /** Showroom origins (scheme://host[:port]) whose pages may post with this key. */
                origins: z
                  .array(z.string().regex(/^https?:\/\/[^/?#\s]+$/, 'expected an origin: scheme://host[:port], no path'))
                  .min(1, 'expected at least one origin'),
              }),
            )
            .default([])
            .refine((sites) => new Set(sites.map((s) => s.key)).size === sites.length, 'two sites share a key')
            .refine((sites) => new Set(sites.map((s) => s.name)).size === sites.length, 'two sites share a name'),
          /** Batches a minute per client address (IPv6: per /64), per process. */
          perClientPerMinute: z.coerce.number().int().min(1).default(120),
          /** Batches a minute per site key, per process. */
          perSitePerMinute: z.coerce.number().int().min(1).default(12_000),
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
      /** The backup catalog's public address (sitemap, spec sheets, links); status.fallbackUrl otherwise. */
      mirrorUrl: z.url({ error: 'expected an absolute http(s) URL' }).optional(),
      /** The backup catalog's title; "<status.pageName>: backup catalog" otherwise. */
      title: z.string().min(1).max(120).optional(),
      /** Contact links on every mirror page and spec sheet (salesEmail by default). */
      contactEmail: z.email({ error: 'expected an email address' }).optional(),
      contactPhone: z
        .string()
        .regex(/^\+?[0-9 ().\-/]{5,30}$/, 'expected a phone number (digits, spaces, +, -, ( ) and dots)')
        .optional(),
      /** Spec sheets, product packs and comparison PDFs in the mirror. */
      pdfs: bool.default(true),
      /** Rebuild and republish the mirror whenever the catalog changes. */
      autoPublish: bool.default(true),
      /** Where the mirror is published (folders, S3-compatible buckets), with flags.json beside it. */
      targets: z.array(publishTarget).default([]),
      /** Published versions a folder target keeps besides the live one. */
      keepVersions: z.coerce.number().int().min(1).max(50).default(3),
    })
    .prefault({}),
  privacy: z
    .strictObject({
      /** Days each kind of personal data is kept before the purge job removes it (0 or null: keep). */
      retention: z
        .strictObject({
          messageBodiesDays: retentionDays.default(90),
          beaconsDays: retentionDays.default(30),
          eventsDays: retentionDays.default(180),
          conversationsDays: retentionDays.default(90),
        })
        .prefault({}),
    })
    .prefault({}),
  drill: z
    .strictObject({
      /** A staging showroom to drill (instead of the demo's): its control endpoint and the components of each scenario. */
      staging: z
        .strictObject({
          name: z.string().min(1).default('staging'),
          /** POST {url}/break and {url}/restore with {"scenario": …} and the bearer token. */
          url: z.url({ error: 'expected the control endpoint, an absolute http(s) URL' }),
          token: z.string().min(8, 'expected the control token (at least 8 characters)'),
          components: z
            .strictObject({
              cdn: z.array(z.string().min(1)).optional(),
              api: z.array(z.string().min(1)).optional(),
              auth: z.array(z.string().min(1)).optional(),
              'third-party': z.array(z.string().min(1)).optional(),
            })
            .prefault({}),
        })
        .optional(),
      /** How long a drill keeps the entry point broken (seconds) unless the drill says otherwise. */
      holdSeconds: z.coerce.number().int().min(10).max(3600).default(90),
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

/** Settings that moved to the playbook: still read from the config (over the playbook), never exposed by it. */
const MOVED_TO_PLAYBOOK = {
  'status.cadence.acknowledgeMinutes': 'cadence.acknowledgeWithin',
  'status.cadence.promiseMinutes': 'cadence.promiseEvery',
  'status.cadence.targetMinutes': 'cadence.targetEvery',
  'status.cadence.remindMinutesBefore': 'cadence.remindBefore',
  'status.cadence.backupRole': 'cadence.backupRole',
  'status.cadence.holdingUpdates': 'cadence.holdingUpdates',
  'detection.declare': 'detection.declare',
  'detection.confirmWithinMinutes': 'detection.confirmWithin',
  'detection.failuresToDown': 'detection.failuresToDown',
  'detection.successesToUp': 'detection.successesToUp',
  'crm.tiers': 'crm.tiers',
  'crm.taskArrAbove': 'crm.taskArrAbove',
  'crm.callWithinMinutes': 'crm.callWithin',
} as const;

export type Config = Omit<ParsedConfig, 'databaseUrl' | 'publicUrl' | 'status' | 'detection' | 'crm' | 'playbook'> & {
  databaseUrl: string;
  publicUrl: string;
  status: Omit<ParsedConfig['status'], 'cadence'>;
  detection: Omit<ParsedConfig['detection'], 'declare' | 'confirmWithinMinutes' | 'failuresToDown' | 'successesToUp'>;
  crm: Omit<ParsedConfig['crm'], 'tiers' | 'taskArrAbove' | 'callWithinMinutes'>;
  /** Where the values came from, for messages (file path or null). */
  configFile: string | null;
  /** The playbook in force: its file's values, with any deprecated config keys above (see MOVED_TO_PLAYBOOK). */
  playbook: Playbook;
  /** The playbook's file (absolute), or null for the built-in playbook. */
  playbookFile: string | null;
  /** Lines to log once at start: where the playbook came from, deprecated settings in use. */
  notices: string[];
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
    env: 'KEEPWARM_PLAYBOOK',
    key: 'playbook',
    description: 'Playbook file (default playbooks/showroom.yaml; the built-in playbook when that file is absent).',
  },
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
    description: "Overrides the playbook's cadence.promiseEvery, in minutes.",
  },
  {
    env: 'KEEPWARM_HOLDING_UPDATES',
    key: 'status.cadence.holdingUpdates',
    description: "Overrides the playbook's cadence.holdingUpdates (publish a pre-approved holding update at a missed deadline).",
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
    description: "Overrides the playbook's detection.declare: auto (declare), suggest (commander confirms), off.",
  },
  {
    env: 'KEEPWARM_DETECTION_REGION',
    key: 'detection.region',
    description: 'Region name of the probes this process runs (default local).',
  },
  {
    env: 'KEEPWARM_RETENTION_MESSAGE_BODIES_DAYS',
    key: 'privacy.retention.messageBodiesDays',
    description: 'Days message bodies and recipients are kept; delivery facts stay (default 90; 0 keeps them).',
  },
  {
    env: 'KEEPWARM_RETENTION_BEACONS_DAYS',
    key: 'privacy.retention.beaconsDays',
    description: 'Days resolved browser-beacon signals are kept (default 30; 0 keeps them).',
  },
  {
    env: 'KEEPWARM_RETENTION_EVENTS_DAYS',
    key: 'privacy.retention.eventsDays',
    description: 'Days intent events from the showroom SDK are kept (default 180; 0 keeps them).',
  },
  {
    env: 'KEEPWARM_RETENTION_CONVERSATIONS_DAYS',
    key: 'privacy.retention.conversationsDays',
    description: 'Days conversations and inbound texts are kept (default 90; 0 keeps them).',
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
  let fileLayer: Record<string, unknown> = {};
  if (file && existsSync(file)) {
    const layer = readFileLayer(file, problems);
    // A copy: the layers below merge into the same objects.
    fileLayer = structuredClone(layer);
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
  let loaded: ReturnType<typeof loadPlaybook> | null = null;
  try {
    loaded = loadPlaybook({ path: parsed.success ? parsed.data.playbook : undefined, cwd });
  } catch (err) {
    if (!(err instanceof PlaybookError)) throw err;
    problems.push(...err.problems.map((p) => `playbook ${formatPlaybookProblem(p)}`));
  }
  if (problems.length > 0 || !parsed.success || !loaded) throw new ConfigError(problems);

  const { playbook: _file, ...value } = parsed.data;
  const notices = [loaded.note];
  const playbook = applyMovedSettings(loaded.playbook, raw, parsed.data, fileLayer, notices);
  const { cadence: _cadence, ...status } = value.status;
  const { declare: _d, confirmWithinMinutes: _c, failuresToDown: _f, successesToUp: _s, ...detection } = value.detection;
  const { tiers: _t, taskArrAbove: _a, callWithinMinutes: _w, ...crm } = value.crm;
  const dataDir = resolve(cwd, value.dataDir);
  const databaseUrl = value.databaseUrl ?? `sqlite:${join(dataDir, 'keepwarm.sqlite')}`;
  const host =
    value.host === '0.0.0.0' || value.host === '::' ? 'localhost' : value.host.includes(':') ? `[${value.host}]` : value.host;
  const publicUrl = (value.publicUrl ?? `http://${host}:${value.port}`).replace(/\/+$/, '');
  return {
    ...value,
    status,
    detection,
    crm,
    dataDir,
    databaseUrl,
    publicUrl,
    configFile: file,
    playbook,
    playbookFile: loaded.file,
    notices,
  };
}

/**
 * The playbook with the deprecated config keys that are set (file, environment, flags or a
 * command's defaults) on top; a notice for each one set in the config file.
 */
function applyMovedSettings(
  base: Playbook,
  raw: Record<string, unknown>,
  parsedConfig: ParsedConfig,
  fileLayer: Record<string, unknown>,
  notices: string[],
): Playbook {
  const out: Playbook = structuredClone(base);
  const minutes = (v: unknown) => Number(v) * 60_000;
  const convert: Partial<Record<keyof typeof MOVED_TO_PLAYBOOK, (v: unknown) => unknown>> = {
    'status.cadence.acknowledgeMinutes': minutes,
    'status.cadence.promiseMinutes': minutes,
    'status.cadence.targetMinutes': minutes,
    'status.cadence.remindMinutesBefore': minutes,
    'detection.confirmWithinMinutes': minutes,
    'crm.callWithinMinutes': minutes,
  };
  for (const [key, target] of Object.entries(MOVED_TO_PLAYBOOK) as Array<[keyof typeof MOVED_TO_PLAYBOOK, string]>) {
    const path = key.split('.');
    const value = getPath(raw, path);
    if (value === undefined) continue;
    const parsed = getPath(parsedConfig, path);
    if (parsed === undefined) continue;
    const fn = convert[key];
    setPath(out as unknown as Record<string, unknown>, target, fn ? fn(parsed) : parsed);
    if (getPath(fileLayer, path) !== undefined) {
      notices.push(`config: ${key} is deprecated; set ${target} in the playbook instead (the config value still wins for now)`);
    }
  }
  return out;
}

function getPath(obj: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let node: unknown = obj;
  for (const part of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<PropertyKey, unknown>)[part];
  }
  return node;
}
