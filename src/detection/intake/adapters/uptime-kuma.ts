import { z } from 'zod';
import { defineAdapter } from '../adapter.js';
import { finishAlert, type Normalized, type Severity } from '../alert.js';

/** Heartbeat status in Uptime Kuma: 0 down, 1 up, 2 pending (retrying), 3 maintenance. */
export const KUMA_STATUS = ['down', 'up', 'pending', 'maintenance'] as const;

const digitToNumber = (v: unknown) => (typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : v);

const heartbeat = z.looseObject({
  monitorID: z.preprocess(digitToNumber, z.number().int()).nullable().optional(),
  status: z.preprocess(digitToNumber, z.number().int().min(0).max(3)).describe('0 down, 1 up, 2 pending, 3 maintenance'),
  time: z.string().nullable().optional().describe('UTC "YYYY-MM-DD HH:mm:ss.SSS"'),
  msg: z.string().nullable().optional(),
  ping: z.number().nullable().optional(),
  important: z.boolean().nullable().optional(),
  duration: z.number().nullable().optional(),
  retries: z.number().nullable().optional(),
  timezone: z.string().nullable().optional(),
  timezoneOffset: z.string().nullable().optional(),
  localDateTime: z.string().nullable().optional(),
});

const monitor = z.looseObject({
  id: z.union([z.number().int(), z.string().trim().min(1)]).transform(String),
  name: z.string().describe('The monitor name'),
  description: z.string().nullable().optional(),
  pathName: z.string().nullable().optional().describe('Group path, "Group / Monitor"'),
  url: z.string().nullable().optional(),
  hostname: z.string().nullable().optional(),
  type: z.string().nullable().optional().describe('http, keyword, ping, port, dns, …'),
  tags: z
    .array(z.looseObject({ name: z.string(), value: z.union([z.string(), z.number()]).nullable().optional() }))
    .nullable()
    .optional()
    .describe('Tags: each becomes a label by its name (e.g. region, component)'),
});

/** The webhook notification body: {heartbeat, monitor, msg}; the Test button sends both as null. */
export const uptimeKumaPayload = z
  .looseObject({
    heartbeat: heartbeat.nullable().optional(),
    monitor: monitor.nullable().optional(),
    msg: z.string().nullable().optional().describe('"[name] [🔴 Down] message"'),
  })
  .superRefine((value, ctx) => {
    if (value.heartbeat && !value.monitor && value.heartbeat.monitorID == null) {
      ctx.addIssue({ code: 'custom', path: ['monitor'], message: 'expected the monitor the heartbeat belongs to' });
    }
  });

/** Uptime Kuma's heartbeat time (UTC, SQL datetime) as ISO-8601. */
function kumaTime(text: string | null | undefined): string | undefined {
  const match = text ? /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d+)?)Z?$/.exec(text.trim()) : null;
  if (!match) return undefined;
  const ms = Date.parse(`${match[1]}T${match[2]}Z`);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
}

function usefulUrl(url: string | null | undefined): string | undefined {
  const trimmed = url?.trim();
  // Non-HTTP monitors keep the form's default "https://".
  return trimmed && !/^https?:\/\/$/.test(trimmed) ? trimmed : undefined;
}

export const uptimeKumaAdapter = defineAdapter({
  source: 'uptime-kuma',
  title: 'Uptime Kuma',
  description:
    'An Uptime Kuma Webhook notification (body type JSON, or form-data: the `data` field is read). One signal per monitor (fingerprint = monitor id): DOWN fires, UP resolves, PENDING fires as degraded, MAINTENANCE resolves. Labels: monitor_id, monitor_name, monitor_type, monitor_url, monitor_hostname, monitor_path, heartbeat_status, and each tag by its name. The Test button\'s notification is accepted and ignored. Authenticate with Additional Headers {"Authorization": "Bearer <detection.intake[\'uptime-kuma\'].token>"}.',
  methods: ['POST'],
  schema: uptimeKumaPayload,
  normalize(payload): Normalized {
    const beat = payload.heartbeat;
    if (!beat) {
      return { alerts: [], ignored: [`test notification${payload.msg ? ` "${payload.msg}"` : ''} (no heartbeat)`] };
    }
    const mon = payload.monitor ?? null;
    const id = mon?.id ?? String(beat.monitorID);
    const status = KUMA_STATUS[beat.status] ?? 'down';
    const labels: Record<string, string> = {};
    for (const tag of mon?.tags ?? []) {
      if (tag.name.trim()) labels[tag.name.trim()] = tag.value == null ? '' : String(tag.value);
    }
    labels.monitor_id = id;
    if (mon?.name) labels.monitor_name = mon.name;
    if (mon?.type) labels.monitor_type = mon.type;
    const url = usefulUrl(mon?.url);
    if (url) labels.monitor_url = url;
    if (mon?.hostname?.trim()) labels.monitor_hostname = mon.hostname.trim();
    if (mon?.pathName?.trim()) labels.monitor_path = mon.pathName.trim();
    labels.heartbeat_status = status;

    const name = mon?.name || `Monitor ${id}`;
    const words = { down: 'is down', up: 'is up', pending: 'is pending (retrying)', maintenance: 'is under maintenance' };
    const detail = beat.msg && beat.msg !== 'N/A' ? `: ${beat.msg}` : '';
    const hint: Severity | undefined = status === 'pending' ? 'degraded' : undefined;
    return {
      alerts: [
        finishAlert({
          fingerprint: id,
          state: status === 'down' || status === 'pending' ? 'firing' : 'resolved',
          labels,
          summary: `${name} ${words[status]}${detail}`,
          severityHint: hint,
          startsAt: status === 'down' || status === 'pending' ? kumaTime(beat.time) : undefined,
          url,
          details: {
            heartbeat: {
              status: beat.status,
              time: beat.time ?? null,
              ping: beat.ping ?? null,
              important: beat.important ?? null,
            },
          },
        }),
      ],
      ignored: [],
    };
  },
});
