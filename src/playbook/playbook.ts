import { isMap, LineCounter, type Node, parseDocument } from 'yaml';
import { z } from 'zod';
import { DAY, HOUR, MINUTE, SECOND } from '../core/clock.js';
import type { FlagCondition, FlagDefinition, FlagValue } from '../fallback/flags/flags.js';
import { COMPONENT_KINDS } from '../incidents/incident.js';
import { DEFAULT_TEMPLATES } from '../messaging/default-templates.js';
import { TEMPLATE_CHANNELS, type TemplateChannel } from '../messaging/messaging.js';

/**
 * The playbook: one YAML file (`version: 1`) saying how Keepwarm responds to an outage —
 * detection and declaration, the update cadence, the templates of each phase and channel, the
 * CRM tier rules and sequences, the kill switches, the checklist with its deadlines and the
 * automatic actions. This module is pure: the schema, the built-in defaults (what
 * playbooks/showroom.yaml says) and the parser that points every problem at its line and column.
 *
 * In the parsed model every duration is a number of milliseconds.
 */

export const PLAYBOOK_VERSION = 1;

/** People roles a playbook may name (the console's roles, without the probe agents). */
export const PLAYBOOK_ROLES = ['admin', 'commander', 'marketing', 'sales', 'legal', 'viewer'] as const;
export type PlaybookRole = (typeof PLAYBOOK_ROLES)[number];

export const OUTAGE_CHANNELS = ['CDN', 'API', 'Auth', 'Third-party'] as const;

/** Phases of an outage a template is chosen for. */
export const TEMPLATE_PHASES = [
  'acknowledge',
  'update',
  'holding',
  'reminder',
  'escalation',
  'resolve',
  'followup',
  'call',
  'chat',
] as const;
export type TemplatePhase = (typeof TEMPLATE_PHASES)[number];

const UNITS: Record<string, number> = { d: DAY, h: HOUR, m: MINUTE, s: SECOND };
const DURATION_HINT = 'expected a duration such as 90s, 15m, 1h30m or 3d';

/** "15m", "1h30m", "72h", "3d", "90s", "0" → milliseconds; null when it is not a duration. */
export function parseDuration(text: string): number | null {
  const trimmed = text.trim();
  if (trimmed === '0') return 0;
  const match = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(trimmed);
  if (!match || trimmed === '') return null;
  const [, d, h, m, s] = match;
  return Number(d ?? 0) * DAY + Number(h ?? 0) * HOUR + Number(m ?? 0) * MINUTE + Number(s ?? 0) * SECOND;
}

/** Milliseconds as the file writes them: 900000 → "15m", 5400000 → "1h30m". */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0m';
  let rest = ms;
  let out = '';
  for (const [unit, size] of Object.entries(UNITS)) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return rest > 0 ? `${ms / 1000}s` : out;
}

const duration = z.string({ error: DURATION_HINT }).transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === null) {
    ctx.addIssue({ code: 'custom', message: `bad duration ${JSON.stringify(text)}: ${DURATION_HINT}` });
    return z.NEVER;
  }
  return ms;
});
const positiveDuration = duration.refine((ms) => ms > 0, { error: 'expected a duration longer than 0' });

/** Template keys of the default library, with their channel. */
export const KNOWN_TEMPLATES: ReadonlyMap<string, TemplateChannel> = new Map(DEFAULT_TEMPLATES.map((t) => [t.key, t.channel]));

const templateKey = z
  .string({ error: 'expected a template key such as email.initial_ack' })
  .refine((key) => KNOWN_TEMPLATES.has(key), {
    error: (issue) => {
      const key = String(issue.input);
      const prefix = key.split('.')[0] ?? '';
      const alike = [...KNOWN_TEMPLATES.keys()].filter((k) => k.startsWith(`${prefix}.`));
      return `unknown template key ${JSON.stringify(key)}: ${alike.length > 0 ? `the library's ${prefix} templates are ${alike.join(', ')}` : `template keys start with a channel (${[...new Set(KNOWN_TEMPLATES.values())].join(', ')})`}`;
    },
  });

const role = z.enum(PLAYBOOK_ROLES, {
  error: (issue) => `unknown role ${JSON.stringify(issue.input)}: expected one of ${PLAYBOOK_ROLES.join(', ')}`,
});
const channel = z.enum(OUTAGE_CHANNELS, {
  error: (issue) => `unknown outage channel ${JSON.stringify(issue.input)}: expected one of ${OUTAGE_CHANNELS.join(', ')}`,
});
const slug = z
  .string({ error: 'expected a name' })
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'expected lower-case letters, digits, - and _ (such as first-update)');
const eventType = z
  .string({ error: 'expected a timeline event type such as incident.declared' })
  .regex(/^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$/, 'expected a timeline event type such as incident.declared or update.published');
const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()], { error: 'expected text, a number, true/false or null' });
const flagValue = z.union([z.boolean(), z.string(), z.number(), z.record(z.string(), z.unknown())], {
  error: 'expected true/false, text, a number or a mapping',
});

/** Which timeline events a rule or a checklist item reacts to. */
const trigger = z.strictObject({
  /** Timeline event type: incident.declared, update.published, crm.leads_tagged, cadence.escalated, … */
  event: eventType,
  /** Only incidents affecting a component of one of these channels. */
  channel: z.array(channel).min(1, 'expected at least one channel').optional(),
  /** Only drills (true) or only real incidents (false); both when absent. */
  drill: z.boolean({ error: 'expected true or false' }).optional(),
  /** Fields of the event's data that must be equal ("*": present and not null). */
  data: z.record(z.string(), scalar).optional(),
});
export type Trigger = z.output<typeof trigger>;

const tierRule = z.strictObject({
  name: z.string().min(1, 'expected a name'),
  tier: z.enum(['A', 'B', 'C'], { error: 'expected tier A, B or C' }),
  when: z
    .strictObject({
      demoToday: z.boolean({ error: 'expected true or false' }).optional(),
      arrAbove: z.number({ error: 'expected a number of dollars' }).min(0).optional(),
      arrAtLeast: z.number({ error: 'expected a number of dollars' }).min(0).optional(),
      arrAtMost: z.number({ error: 'expected a number of dollars' }).min(0).optional(),
      activeWithinDays: z.number({ error: 'expected a number of days' }).positive().optional(),
      lifecycle: z.array(z.enum(['lead', 'mql', 'sql', 'opportunity', 'customer'])).optional(),
    })
    .default({}),
});

const sequenceStep = z.strictObject({
  /** Wait this long after the previous step (the first step is due when the lead is enrolled). */
  after: duration,
  purpose: z.string().min(1, 'expected a purpose'),
  send: z
    .array(
      z.strictObject({
        channel: z.enum(['email', 'sms'], { error: 'expected email or sms' }),
        template: templateKey,
        /** The message carries the fallback link: the lead's fallback_sent becomes true. */
        carriesFallback: z.boolean({ error: 'expected true or false' }).default(false),
      }),
    )
    .min(1, 'expected at least one message'),
});
const sequence = z.strictObject({ steps: z.array(sequenceStep).min(1, 'expected at least one step') });

const flagCondition = z
  .strictObject({
    channel: z.array(channel).min(1).optional(),
    component: z.string().min(1).optional(),
    kind: z.array(z.enum(COMPONENT_KINDS)).min(1).optional(),
  })
  .refine((c) => [c.channel, c.component, c.kind].filter((v) => v !== undefined).length === 1, {
    error: 'expected exactly one of channel, component or kind',
  });

const flag = z.strictObject({
  key: z.string().regex(/^[a-z0-9][a-z0-9_.-]*$/, 'expected a flag key such as showroom.checkout'),
  description: z.string().min(1, 'expected a description'),
  default: flagValue,
  rules: z.array(z.strictObject({ when: flagCondition, value: flagValue })).default([]),
});

const action = z.discriminatedUnion(
  'action',
  [
    /** Publish the first public update from an approved status template (templates.acknowledge.status by default); skipped when one is already out. */
    z.strictObject({
      action: z.literal('acknowledge'),
      template: templateKey.optional(),
      /** The template's {{ message }} (default: which components are affected, and that the team is on it). */
      message: z.string().min(1, 'expected the message text').optional(),
    }),
    /** Pin the fallback flag on (the banner links the fallback showroom) and note the fallback URL. */
    z.strictObject({ action: z.literal('enable_fallback') }),
    /** Pin a kill switch to a value; null clears the pin. */
    z.strictObject({ action: z.literal('flip_flag'), flag: z.string().min(1), value: flagValue.nullable() }),
    /** Tag and tier the pipeline, create owner tasks and enroll sequences (the CRM outage engine). */
    z.strictObject({ action: z.literal('tag_crm') }),
    /** Tell every active user of a role, by email or in the team's Slack. */
    z.strictObject({
      action: z.literal('notify'),
      role,
      via: z.enum(['email', 'slack'], { error: 'expected email or slack' }),
      template: templateKey,
    }),
  ],
  {
    error: (issue) =>
      issue.code === 'invalid_union'
        ? 'unknown action: expected one of acknowledge, enable_fallback, flip_flag, tag_crm, notify'
        : undefined,
  },
);
export type PlaybookAction = z.output<typeof action>;

const rule = z.strictObject({
  name: slug,
  when: trigger.refine((t) => !t.event.startsWith('playbook.'), {
    error: "the playbook's own events cannot trigger a rule (that could loop); react to the fact instead",
    path: ['event'],
  }),
  actions: z.array(action).min(1, 'expected at least one action'),
});
export type PlaybookRule = z.output<typeof rule>;

/**
 * Built in: acknowledge publicly the moment an incident is declared (the approved status notice,
 * naming what is affected) and switch buyers to the fallback showroom.
 */
const DEFAULT_RULES = [
  {
    name: 'acknowledge-and-fall-back',
    when: { event: 'incident.declared' },
    actions: [{ action: 'acknowledge' as const }, { action: 'enable_fallback' as const }],
  },
];

const checklistItem = z.strictObject({
  id: slug,
  title: z.string().min(1, 'expected a title'),
  role: z.string({ error: 'expected a role' }),
  /** Due this long after the declaration (or the resolution, with from: resolved); no deadline when absent. */
  due: duration.optional(),
  from: z.enum(['declared', 'resolved'], { error: 'expected declared or resolved' }).default('declared'),
  /** Done by itself when a matching event lands on the timeline. */
  completeOn: z
    .union([trigger, z.array(trigger)])
    .optional()
    .transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v])),
});
export type ChecklistItemDefinition = z.output<typeof checklistItem>;

const channelTemplates = z.strictObject(
  Object.fromEntries(TEMPLATE_CHANNELS.map((c) => [c, templateKey.optional()])) as Record<
    TemplateChannel,
    z.ZodOptional<typeof templateKey>
  >,
);

const DEFAULT_TEMPLATE_CHOICES: Record<TemplatePhase, Partial<Record<TemplateChannel, string>>> = {
  acknowledge: { status: 'status.notice', banner: 'banner.notice', email: 'email.initial_ack', sms: 'sms.high_intent' },
  update: { email: 'email.hourly_update', sms: 'sms.update', slack: 'slack.update', social: 'social.post' },
  holding: { status: 'status.holding_update' },
  reminder: { slack: 'slack.cadence_reminder' },
  escalation: { slack: 'slack.cadence_escalation', email: 'email.cadence_escalation' },
  resolve: { email: 'email.resolved' },
  followup: { email: 'email.followup' },
  call: { call: 'call.script' },
  chat: { chat: 'chat.menu' },
};

const DEFAULT_ROLES: Partial<Record<PlaybookRole, string>> = {
  commander: 'Incident commander (SRE / Ops): declares, runs the checklist, owns the cadence',
  marketing: 'Public words: status page, banner, email and social updates',
  sales: 'Account owners: calls, live demos, the pipeline',
  legal: 'Approves every template and the credit policy',
  admin: 'Keepwarm administrators: the escalation backstop',
};

const DEFAULT_FLAG_DEFINITIONS: z.input<typeof flag>[] = [
  {
    key: 'showroom.configurator',
    description: 'The interactive product configurator (needs the showroom API and third-party widgets).',
    default: true,
    rules: [{ when: { channel: ['API', 'Third-party'] }, value: false }],
  },
  {
    key: 'showroom.checkout',
    description: 'Online checkout; off while the API or sign-in is down (buyers use the offline order form).',
    default: true,
    rules: [{ when: { channel: ['API', 'Auth'] }, value: false }],
  },
  {
    key: 'showroom.fallback_banner',
    description: 'Show the outage banner and links to the fallback showroom.',
    default: false,
    rules: [{ when: { channel: ['CDN', 'API', 'Auth', 'Third-party'] }, value: true }],
  },
];

const DEFAULT_CHECKLIST: z.input<typeof checklistItem>[] = [
  {
    id: 'commander',
    title: 'Open the incident record and assign a commander',
    role: 'commander',
    due: '10m',
    completeOn: { event: 'incident.declared', data: { commander_id: '*' } },
  },
  {
    id: 'acknowledge',
    title: 'Publish the first public acknowledgement and set the update cadence',
    role: 'commander',
    due: '15m',
    completeOn: { event: 'update.published' },
  },
  {
    id: 'fallback',
    title: 'Enable the fallback showroom and link it in the public notice',
    role: 'commander',
    due: '30m',
    completeOn: { event: 'playbook.fallback_enabled' },
  },
  {
    id: 'crm',
    title: 'Tag the affected leads in the CRM and queue the priority tasks',
    role: 'sales',
    due: '20m',
    completeOn: [{ event: 'crm.leads_tagged' }, { event: 'crm.skipped' }],
  },
  {
    id: 'outreach',
    title: 'Send the email and SMS templates to the high-intent segments',
    role: 'marketing',
    due: '30m',
  },
  { id: 'call-tier-a', title: 'Sales: call Tier A accounts now and offer live demos', role: 'sales', due: '15m' },
  { id: 'log-interactions', title: 'Log every outage-related interaction for the postmortem', role: 'sales' },
  {
    id: 'report',
    title: 'Publish the incident report (timeline, root cause, impact, remediation, prevention)',
    role: 'commander',
    due: '72h',
    from: 'resolved',
    completeOn: { event: 'update.published', data: { status: 'postmortem' } },
  },
];

/** The file's schema. Every section is optional: what is absent takes the built-in default. */
export const playbookSchema = z.strictObject({
  version: z.literal(PLAYBOOK_VERSION, {
    error: (issue) =>
      issue.input === undefined
        ? 'missing: a playbook starts with version: 1'
        : `unsupported version ${JSON.stringify(issue.input)}: this Keepwarm reads version 1`,
  }),
  name: z.string().min(1).default('Showroom outage'),
  /** The roles this playbook assigns work to, with what each does. */
  roles: z
    .record(z.string(), z.string({ error: 'expected a description of the role' }))
    .default(DEFAULT_ROLES as Record<string, string>),
  detection: z
    .strictObject({
      /** What a confirmed outage does: declare an incident, suggest one to the commander, or nothing. */
      declare: z.enum(['auto', 'suggest', 'off'], { error: 'expected auto, suggest or off' }).default('suggest'),
      /** A suggestion nobody confirms or dismisses is declared after this long. */
      confirmWithin: positiveDuration.default(5 * MINUTE),
      /** During a drill, a suggestion waits at most this long (drill timing; never longer than confirmWithin). */
      drillConfirmWithin: positiveDuration.default(30 * SECOND),
      failuresToDown: z.number({ error: 'expected a whole number' }).int().min(1).max(20).default(2),
      successesToUp: z.number({ error: 'expected a whole number' }).int().min(1).max(20).default(2),
    })
    .prefault({}),
  cadence: z
    .strictObject({
      /** The first public update is due this long after declaration. */
      acknowledgeWithin: positiveDuration.default(15 * MINUTE),
      /** The promised interval between public updates (what the status page says). */
      promiseEvery: positiveDuration.default(60 * MINUTE),
      /** The team's own target interval (reminders aim at it). */
      targetEvery: positiveDuration.default(30 * MINUTE),
      /** Remind the commander this long before an update is due. */
      remindBefore: duration.default(5 * MINUTE),
      /** Role escalated to when a deadline passes with no update. */
      backupRole: role.default('admin'),
      /** Publish a pre-approved holding update at the deadline so no gap exceeds the promise. */
      holdingUpdates: z.boolean({ error: 'expected true or false' }).default(false),
    })
    .prefault({}),
  templates: z
    .strictObject(
      Object.fromEntries(TEMPLATE_PHASES.map((p) => [p, channelTemplates.default(DEFAULT_TEMPLATE_CHOICES[p])])) as Record<
        TemplatePhase,
        z.ZodDefault<typeof channelTemplates>
      >,
    )
    .prefault({}),
  crm: z
    .strictObject({
      /** Tag the pipeline on every real declaration (false: only through a tag_crm action). */
      tagOnDeclare: z.boolean({ error: 'expected true or false' }).default(true),
      /** Owner tasks also for accounts above this ARR (dollars) or with a demo scheduled. */
      taskArrAbove: z.number({ error: 'expected a number of dollars' }).min(0).default(10_000),
      /** Tier A "call now" tasks are due this long after declaration. */
      callWithin: positiveDuration.default(15 * MINUTE),
      /** In order: the first rule whose every condition holds decides the lead's tier. */
      tiers: z.array(tierRule).default([
        { name: 'demo today, ARR over $25K', tier: 'A', when: { demoToday: true, arrAbove: 25_000 } },
        {
          name: 'recent views or cart, $5K-$25K',
          tier: 'B',
          when: { activeWithinDays: 7, arrAtLeast: 5_000, arrAtMost: 25_000 },
        },
        { name: 'rest of the pipeline', tier: 'C', when: {} },
      ]),
    })
    .prefault({}),
  /** Tier B leads are enrolled in tier_b, Tier C leads in tier_c. */
  sequences: z
    .strictObject({
      tier_b: sequence.prefault({
        steps: [
          {
            after: '0m',
            purpose: 'Reply menu by SMS (1 specs, 2 booking) and the spec pack with a booking link by email',
            send: [
              { channel: 'sms', template: 'sms.high_intent' },
              { channel: 'email', template: 'email.spec_pack', carriesFallback: true },
            ],
          },
          {
            after: '24h',
            purpose: 'Follow-up email offering a live session',
            send: [{ channel: 'email', template: 'email.outage_followup', carriesFallback: true }],
          },
        ],
      }),
      tier_c: sequence.prefault({
        steps: [
          {
            after: '0m',
            purpose: 'Nurture email: downloadable assets and a webinar invitation',
            send: [{ channel: 'email', template: 'email.nurture' }],
          },
          {
            after: '3d',
            purpose: 'Second nurture email',
            send: [{ channel: 'email', template: 'email.nurture_2' }],
          },
        ],
      }),
    })
    .prefault({}),
  fallback: z
    .strictObject({
      /** The flag enable_fallback pins on. */
      flag: z.string().min(1).default('showroom.fallback_banner'),
    })
    .prefault({}),
  /** Kill switches: a default value and rules tied to the channels of open incidents. */
  flags: z.array(flag).prefault(DEFAULT_FLAG_DEFINITIONS),
  /** Created for every declared incident (drills included), deadlines relative to declaration. */
  checklist: z.array(checklistItem).prefault(DEFAULT_CHECKLIST),
  /** Automatic actions: when an event matching `when` lands on an incident's timeline, run `actions` once. */
  rules: z.array(rule).prefault(DEFAULT_RULES),
});

type Raw = Record<string, unknown>;
const asMap = (v: unknown): Raw => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Raw) : {});
const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const asText = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export interface PlaybookIssue {
  path: Array<string | number>;
  message: string;
}

/**
 * Cross-references the schema alone cannot see: roles the checklist and notifications name must be
 * the playbook's roles, flags must be the playbook's flags, names must be unique, templates must
 * suit their channel. Reads the raw value defensively, so it reports even when other parts of the
 * file are wrong (every problem at once, not one round at a time).
 */
export function crossReferenceIssues(value: unknown): PlaybookIssue[] {
  const issues: PlaybookIssue[] = [];
  const add = (path: Array<string | number>, message: string) => issues.push({ path, message });
  const root = asMap(value);
  const roles = root.roles === undefined ? Object.keys(DEFAULT_ROLES) : Object.keys(asMap(root.roles));
  for (const name of roles) {
    if (!(PLAYBOOK_ROLES as readonly string[]).includes(name)) {
      add(['roles', name], `unknown role ${JSON.stringify(name)}: expected one of ${PLAYBOOK_ROLES.join(', ')}`);
    }
  }
  const unknownRole = (name: string) =>
    `unknown role ${JSON.stringify(name)}: the playbook's roles are ${roles.join(', ') || '(none)'}`;
  const checklist = root.checklist === undefined ? [] : asList(root.checklist);
  checklist.forEach((raw, i) => {
    const r = asText(asMap(raw).role);
    if (r !== undefined && !roles.includes(r)) add(['checklist', i, 'role'], unknownRole(r));
  });
  const unique = (list: unknown[], field: string, section: string, label: string) =>
    duplicates(
      list.map((x) => asText(asMap(x)[field]) ?? ''),
      (i, v) => v !== '' && add([section, i, field], `duplicate ${label} ${JSON.stringify(v)}`),
    );
  unique(checklist, 'id', 'checklist', 'checklist id');
  const rules = asList(root.rules);
  unique(rules, 'name', 'rules', 'rule name');
  const flags = root.flags === undefined ? DEFAULT_FLAG_DEFINITIONS : asList(root.flags);
  unique(flags, 'key', 'flags', 'flag');
  const flagKeys = flags.map((f) => asText(asMap(f).key)).filter((k): k is string => k !== undefined);
  const unknownFlag = (key: string) =>
    `unknown flag ${JSON.stringify(key)}: the playbook's flags are ${flagKeys.join(', ') || '(none)'}`;
  const fallbackFlag = asText(asMap(root.fallback).flag);
  if (fallbackFlag !== undefined && !flagKeys.includes(fallbackFlag)) add(['fallback', 'flag'], unknownFlag(fallbackFlag));
  if (fallbackFlag === undefined && root.flags !== undefined && !flagKeys.includes('showroom.fallback_banner')) {
    add(['fallback'], `the fallback flag showroom.fallback_banner is not among the playbook's flags: set fallback.flag`);
  }
  const channelOf = (key: string | undefined) => (key === undefined ? undefined : KNOWN_TEMPLATES.get(key));
  rules.forEach((r, i) => {
    asList(asMap(r).actions).forEach((raw, j) => {
      const a = asMap(raw);
      const at = (field: string) => ['rules', i, 'actions', j, field];
      const flagKey = asText(a.flag);
      if (a.action === 'flip_flag' && flagKey !== undefined && !flagKeys.includes(flagKey)) add(at('flag'), unknownFlag(flagKey));
      const role = asText(a.role);
      if (
        a.action === 'notify' &&
        role !== undefined &&
        (PLAYBOOK_ROLES as readonly string[]).includes(role) &&
        !roles.includes(role)
      ) {
        add(at('role'), unknownRole(role));
      }
      const template = asText(a.template);
      const want = a.action === 'acknowledge' ? 'status' : a.action === 'notify' ? asText(a.via) : undefined;
      const got = channelOf(template);
      if (template && got && want && got !== want) {
        add(
          at('template'),
          `template ${template} is for the ${got} channel; ${String(a.action)}${a.action === 'notify' ? ` via ${want}` : ''} needs a ${want} template`,
        );
      }
    });
  });
  for (const [phase, map] of Object.entries(asMap(root.templates))) {
    for (const [ch, key] of Object.entries(asMap(map))) {
      const got = channelOf(asText(key));
      if (got && got !== ch && (TEMPLATE_CHANNELS as readonly string[]).includes(ch)) {
        add(['templates', phase, ch], `template ${String(key)} is for the ${got} channel, not ${ch}`);
      }
    }
  }
  for (const [name, seq] of Object.entries(asMap(root.sequences))) {
    asList(asMap(seq).steps).forEach((step, i) => {
      asList(asMap(step).send).forEach((raw, j) => {
        const m = asMap(raw);
        const got = channelOf(asText(m.template));
        if (got && typeof m.channel === 'string' && got !== m.channel) {
          add(
            ['sequences', name, 'steps', i, 'send', j, 'template'],
            `template ${String(m.template)} is for the ${got} channel, not ${m.channel}`,
          );
        }
      });
    });
  }
  return issues;
}

function duplicates(values: readonly string[], report: (index: number, value: string) => void): void {
  const seen = new Set<string>();
  values.forEach((v, i) => {
    if (seen.has(v)) report(i, v);
    seen.add(v);
  });
}

export type Playbook = z.output<typeof playbookSchema>;
export type PlaybookInput = z.input<typeof playbookSchema>;
export type TierRule = Playbook['crm']['tiers'][number];

/** The built-in playbook: what playbooks/showroom.yaml says, used when that file is absent. */
export function defaultPlaybook(): Playbook {
  return playbookSchema.parse({ version: PLAYBOOK_VERSION });
}

/** The playbook's flags in the shape the kill switches use. */
export function flagDefinitions(playbook: Playbook): FlagDefinition[] {
  return playbook.flags.map((f) => ({
    key: f.key,
    description: f.description,
    defaultValue: f.default as FlagValue,
    rules: f.rules.map((r) => ({ when: r.when as FlagCondition, value: r.value as FlagValue })),
    enabled: true,
    override: null,
  }));
}

/** One problem of a playbook file, pointing at where it is. */
export interface PlaybookProblem {
  file: string;
  line: number;
  column: number;
  /** Dotted path of the setting ("cadence.acknowledgeWithin", "checklist.2.role"); empty at the top. */
  path: string;
  message: string;
}

export function formatProblem(p: PlaybookProblem): string {
  return `${p.file}:${p.line}:${p.column}: ${p.path ? `${p.path}: ` : ''}${p.message}`;
}

export class PlaybookError extends Error {
  readonly problems: PlaybookProblem[];
  constructor(problems: PlaybookProblem[]) {
    super(`Invalid playbook:\n${problems.map((p) => `  ${formatProblem(p)}`).join('\n')}`);
    this.name = 'PlaybookError';
    this.problems = problems;
  }
}

export type ParseResult = { ok: true; playbook: Playbook } | { ok: false; problems: PlaybookProblem[] };

/**
 * Parse and validate a playbook's text. Every problem (YAML syntax, unknown key, wrong type, bad
 * duration, unknown template, flag or role) says file:line:column and the path of the setting.
 */
export function parsePlaybook(text: string, file: string): ParseResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  const at = (offset: number | undefined) => {
    const pos = lineCounter.linePos(offset ?? 0);
    return { line: pos.line, column: pos.col };
  };
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => ({
        file,
        line: e.linePos?.[0]?.line ?? 1,
        column: e.linePos?.[0]?.col ?? 1,
        path: '',
        message: (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, ''),
      })),
    };
  }
  const value: unknown = doc.toJS() ?? {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return {
      ok: false,
      problems: [{ file, ...at(doc.contents?.range?.[0]), path: '', message: 'expected a mapping of settings (version: 1, …)' }],
    };
  }
  const parsed = playbookSchema.safeParse(value, { reportInput: true });
  const cross = crossReferenceIssues(value);
  if (parsed.success && cross.length === 0) return { ok: true, playbook: parsed.data };
  const seen = new Set<string>();
  const problems: PlaybookProblem[] = [];
  const push = (p: PlaybookProblem) => {
    const key = `${p.path}\n${p.message}`;
    if (!seen.has(key)) problems.push(p);
    seen.add(key);
  };
  for (const issue of parsed.success ? [] : parsed.error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        push({
          file,
          ...at(keyNode(doc.getIn(issue.path, true), key)?.range?.[0] ?? nearestNode(doc, issue.path)?.range?.[0]),
          path: [...issue.path, key].join('.'),
          message: `unknown key ${JSON.stringify(key)}${allowedKeysHint(issue.path, value)}`,
        });
      }
      continue;
    }
    const missing = issue.path.length > 0 && doc.getIn(issue.path, true) === undefined;
    push({
      file,
      ...at(nearestNode(doc, issue.path)?.range?.[0]),
      path: issue.path.join('.'),
      message: describeIssue(issue, missing),
    });
  }
  for (const issue of cross) {
    // A problem with a role name as the key points at the key itself.
    const last = issue.path[issue.path.length - 1];
    const parent = doc.getIn(issue.path.slice(0, -1), true);
    const node =
      (typeof last === 'string' && issue.path[0] === 'roles' ? keyNode(parent, last) : undefined) ?? nearestNode(doc, issue.path);
    push({ file, ...at(node?.range?.[0]), path: issue.path.join('.'), message: issue.message });
  }
  problems.sort((a, b) => a.line - b.line || a.column - b.column);
  return { ok: false, problems };
}

/** Parse or throw a PlaybookError. */
export function parsePlaybookOrThrow(text: string, file: string): Playbook {
  const result = parsePlaybook(text, file);
  if (!result.ok) throw new PlaybookError(result.problems);
  return result.playbook;
}

type Issue = z.core.$ZodIssue;

function describeIssue(issue: Issue, missing: boolean): string {
  if (missing && issue.message.startsWith('missing')) return issue.message;
  if (missing && (issue.code === 'invalid_type' || issue.code === 'invalid_value' || issue.code === 'invalid_union')) {
    const last = issue.path[issue.path.length - 1];
    return `missing: ${String(last)} is required${issue.code === 'invalid_type' ? '' : ` (${issue.message})`}`;
  }
  if (issue.code === 'invalid_type') {
    const got = (issue as { input?: unknown }).input;
    const kind =
      got === null ? 'null' : Array.isArray(got) ? 'a list' : typeof got === 'object' ? 'a mapping' : JSON.stringify(got);
    const message = issue.message.startsWith('Invalid input') ? `expected ${issue.expected}` : issue.message;
    return `${message}, got ${kind}`;
  }
  const input = (issue as { input?: unknown }).input;
  const got = input === undefined || typeof input === 'object' ? '' : `, got ${JSON.stringify(input)}`;
  if (issue.code === 'invalid_value') {
    if (issue.message.startsWith('Invalid'))
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}${got}`;
    return issue.message.includes('got') || issue.message.includes(JSON.stringify(input))
      ? issue.message
      : `${issue.message}${got}`;
  }
  if (issue.code === 'too_small' || issue.code === 'too_big' || issue.code === 'invalid_format') return `${issue.message}${got}`;
  return issue.message;
}

/** The node at `path`, or the closest existing ancestor (a missing key points at its parent). */
function nearestNode(doc: ReturnType<typeof parseDocument>, path: readonly PropertyKey[]): Node | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    if (node && typeof node === 'object' && 'range' in node) return node as Node;
  }
  return undefined;
}

function keyNode(map: unknown, key: string): Node | undefined {
  if (!isMap(map)) return undefined;
  for (const pair of map.items) {
    const k = pair.key as { value?: unknown } | null;
    if (k && typeof k === 'object' && String(k.value) === key) return k as Node;
  }
  return undefined;
}

/** ": expected one of a, b, c" from the schema at `path` (objects only; empty when unknown). */
function allowedKeysHint(path: readonly PropertyKey[], data: unknown): string {
  let schema: z.ZodType | undefined = playbookSchema as unknown as z.ZodType;
  let node: unknown = data;
  for (const part of path) {
    schema = unwrap(schema);
    if (schema instanceof z.ZodObject) schema = schema.shape[String(part)] as z.ZodType | undefined;
    else if (schema instanceof z.ZodArray) schema = schema.element as z.ZodType;
    else if (schema instanceof z.ZodRecord) schema = schema.valueType as z.ZodType;
    else if (schema instanceof z.ZodUnion) {
      const nextNode = (node as Record<PropertyKey, unknown> | undefined)?.[part as string];
      schema = pickOption(schema, nextNode);
      if (schema) {
        schema = unwrap(schema);
        if (schema instanceof z.ZodObject) schema = schema.shape[String(part)] as z.ZodType | undefined;
      }
    } else return '';
    node = (node as Record<PropertyKey, unknown> | undefined)?.[part as string];
  }
  schema = unwrap(schema);
  if (schema instanceof z.ZodUnion) schema = pickOption(schema, node);
  schema = unwrap(schema);
  if (!(schema instanceof z.ZodObject)) return '';
  return `: expected one of ${Object.keys(schema.shape).join(', ')}`;
}

function pickOption(union: z.ZodUnion, node: unknown): z.ZodType | undefined {
  const options = union.options as z.ZodType[];
  const action = (node as { action?: unknown } | null)?.action;
  for (const option of options) {
    const o = unwrap(option);
    if (o instanceof z.ZodObject) {
      const literal = o.shape.action;
      if (action === undefined || (literal instanceof z.ZodLiteral && literal.values.has(action as never))) return o;
    }
  }
  return options.find((o) => unwrap(o) instanceof z.ZodObject);
}

function unwrap(schema: z.ZodType | undefined): z.ZodType | undefined {
  let s = schema;
  for (let i = 0; i < 10 && s; i++) {
    if (s instanceof z.ZodDefault || s instanceof z.ZodPrefault || s instanceof z.ZodOptional || s instanceof z.ZodNullable) {
      s = s.unwrap() as z.ZodType;
    } else if (s instanceof z.ZodPipe) {
      s = s.in as z.ZodType;
    } else break;
  }
  return s;
}
