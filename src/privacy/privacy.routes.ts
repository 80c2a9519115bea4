import { z } from 'zod';
import type { Actor } from '../app/actor.js';
import { errorBodySchema, STANDARD_ERRORS } from '../app/openapi.js';
import type { Router } from '../app/router.js';
import { sendPage } from '../console/layout.js';
import { toIsoOrNull } from '../core/clock.js';
import { AppError } from '../core/errors.js';
import { PrivacyPage, type PrivacyPageProps } from './privacy.pages.js';
import { PERSONAL_TABLES } from './privacy.repo.js';
import type { PrivacyService, PurgeResult, RetentionView } from './privacy.service.js';
import { parseRetentionForm, RETENTION_FIELDS, RETENTION_KEYS, retentionPatchSchema } from './retention.js';

const html = { description: 'HTML page', contentType: 'text/html' };
const form = z.record(z.string(), z.string());

const days = z.number().int().nullable();
const retentionValues = z.object({
  messageBodiesDays: days,
  beaconsDays: days,
  eventsDays: days,
  conversationsDays: days,
});
const purgeSchema = z.object({
  ran_at: z.string(),
  duration_ms: z.number(),
  complete: z.boolean(),
  messages_redacted: z.number().int(),
  beacon_signals_deleted: z.number().int(),
  intent_events_deleted: z.number().int(),
  conversations_deleted: z.number().int(),
  inbound_messages_deleted: z.number().int(),
});
const retentionAnswer = z.object({
  retention: retentionValues.describe('Days kept per kind; null keeps the data'),
  source: z.enum(['config', 'console']),
  updated_at: z.string().nullable(),
  configured: retentionValues.describe('The configuration’s values (privacy.retention)'),
  last_purge: purgeSchema.nullable(),
});
const subjectBody = z.strictObject({
  subject: z.string().max(320).describe('The person: an email address, or a phone number in international form (+14155550100)'),
});
const eraseBody = subjectBody.extend({
  suppress: z
    .boolean()
    .default(true)
    .describe(
      'Keep the email and phone on the suppression list so nothing is sent to them again (default). false: remove them from it too.',
    ),
});
const tableCounts = z.record(z.string(), z.number().int());
const eraseAnswer = z.object({
  kind: z.enum(['email', 'phone']),
  subject_hash: z.string().describe('Keyed hash of the address: the audit entry’s target id'),
  addresses: z.number().int(),
  tables: z.record(z.string(), z.object({ action: z.enum(['deleted', 'redacted', 'kept']), rows: z.number().int() })),
  suppressed: z.number().int(),
  staff_accounts: z.number().int(),
});

function purgeJson(p: PurgeResult) {
  return {
    ran_at: new Date(p.ranAt).toISOString(),
    duration_ms: p.durationMs,
    complete: p.complete,
    messages_redacted: p.messagesRedacted,
    beacon_signals_deleted: p.beaconSignalsDeleted,
    intent_events_deleted: p.intentEventsDeleted,
    conversations_deleted: p.conversationsDeleted,
    inbound_messages_deleted: p.inboundMessagesDeleted,
  };
}

function retentionJson(view: RetentionView, last: PurgeResult | null) {
  return {
    retention: view.value,
    source: view.source,
    updated_at: toIsoOrNull(view.updatedAt),
    configured: view.configured,
    last_purge: last ? purgeJson(last) : null,
  };
}

const RETENTION_DESCRIPTION = [
  'Days each kind of personal data is kept; null (or 0 when saving) keeps it. The purge job (hourly, in batches of 500 rows per transaction) enforces them:',
  ...RETENTION_KEYS.map((k) => `- ${k}: ${RETENTION_FIELDS[k].covers}`),
  'Values saved here take over from the configuration (privacy.retention); DELETE goes back to it.',
].join('\n');

/** The privacy API (/api/v1/privacy/…) and the console page /console/privacy: admins only. */
export function registerPrivacyRoutes(r: Router, privacy: PrivacyService): void {
  const view = async () => retentionJson(await privacy.retention(), await privacy.lastPurge());

  r.route({
    method: 'GET',
    url: '/api/v1/privacy/retention',
    summary: 'Retention settings and the last purge',
    description: RETENTION_DESCRIPTION,
    tags: ['privacy'],
    access: 'privacy.manage',
    responses: { 200: { description: 'Retention', schema: retentionAnswer }, ...STANDARD_ERRORS },
    handler: () => view(),
  });

  r.route({
    method: 'PUT',
    url: '/api/v1/privacy/retention',
    summary: 'Change retention periods (absent fields stay as they are)',
    description: `${RETENTION_DESCRIPTION}\nEach value: a whole number of days from 0 to 3650, or null; a bad one is named in the 400 answer and nothing is saved.`,
    tags: ['privacy'],
    access: 'privacy.manage',
    body: retentionPatchSchema,
    responses: { 200: { description: 'Saved', schema: retentionAnswer }, ...STANDARD_ERRORS },
    async handler({ body, actor }) {
      await privacy.setRetention(actor, body);
      return view();
    },
  });

  r.route({
    method: 'DELETE',
    url: '/api/v1/privacy/retention',
    summary: 'Forget the saved retention periods: the configuration’s apply again',
    tags: ['privacy'],
    access: 'privacy.manage',
    responses: { 200: { description: 'Back to the configuration', schema: retentionAnswer }, ...STANDARD_ERRORS },
    async handler({ actor }) {
      await privacy.resetRetention(actor);
      return view();
    },
  });

  r.route({
    method: 'POST',
    url: '/api/v1/privacy/purge',
    summary: 'Run the retention purge now and answer what it removed',
    description: 'The same purge the hourly job runs; idempotent (a second run removes nothing more). Audited.',
    tags: ['privacy'],
    access: 'privacy.manage',
    responses: { 200: { description: 'What was removed', schema: purgeSchema }, ...STANDARD_ERRORS },
    async handler({ actor }) {
      return purgeJson(await privacy.purge({ actor }));
    },
  });

  r.route({
    method: 'POST',
    url: '/api/v1/privacy/preview',
    summary: 'How many rows each table holds about a person (changes nothing)',
    description: `Tables: ${Object.keys(PERSONAL_TABLES).join(', ')}. POST keeps the address out of URLs and logs.`,
    tags: ['privacy'],
    access: 'privacy.manage',
    body: subjectBody,
    responses: {
      200: {
        description: 'Counts per table',
        schema: z.object({ kind: z.enum(['email', 'phone']), addresses: z.number().int(), counts: tableCounts }),
      },
      422: { description: 'The subject is neither an email address nor a phone number', schema: errorBodySchema },
      ...STANDARD_ERRORS,
    },
    async handler({ body }) {
      const p = await privacy.preview(body.subject);
      return { kind: p.subject.kind, addresses: p.addresses, counts: p.counts };
    },
  });

  r.route({
    method: 'POST',
    url: '/api/v1/privacy/export',
    summary: 'Everything held about a person, as one JSON document by table',
    description:
      'The person is found by the email or phone given and their leads’ other contact details. Rows as stored (times ISO 8601, JSON columns decoded; password and token hashes left out). Audited with a keyed hash of the address, never the address.',
    tags: ['privacy'],
    access: 'privacy.manage',
    body: subjectBody,
    responses: {
      200: {
        description: 'The export',
        schema: z.object({
          generated_at: z.string(),
          subject: z.object({ kind: z.enum(['email', 'phone']), value: z.string() }),
          addresses: z.object({ emails: z.array(z.string()), phones: z.array(z.string()) }),
          counts: tableCounts,
          tables: z.record(z.string(), z.array(z.record(z.string(), z.unknown()))),
        }),
      },
      422: { description: 'The subject is neither an email address nor a phone number', schema: errorBodySchema },
      ...STANDARD_ERRORS,
    },
    async handler({ body, actor }) {
      return privacy.exportPerson(actor, body.subject);
    },
  });

  r.route({
    method: 'POST',
    url: '/api/v1/privacy/erase',
    summary: 'Erase a person from every table, in one transaction',
    description:
      'Deleted: leads, intent events (with the same visitor’s anonymous ones), tasks, enrollments, conversations, inbound texts, status subscriptions. Kept without personal data: messages (delivery facts stay; recipient, body and key go; unsent ones are cancelled), delivery attempts and job errors (the address scrubbed), offline orders (company and lines stay; contact details go). Staff accounts are not touched. The audit entry holds counts and a keyed hash, never the address. Idempotent.',
    tags: ['privacy'],
    access: 'privacy.manage',
    body: eraseBody,
    responses: {
      200: { description: 'What was erased, per table', schema: eraseAnswer },
      422: { description: 'The subject is neither an email address nor a phone number', schema: errorBodySchema },
      ...STANDARD_ERRORS,
    },
    async handler({ body, actor }) {
      const res = await privacy.erase(actor, body.subject, { suppress: body.suppress });
      return {
        kind: res.kind,
        subject_hash: res.subjectHash,
        addresses: res.addresses,
        tables: res.tables,
        suppressed: res.suppressed,
        staff_accounts: res.staffAccounts,
      };
    },
  });

  registerPrivacyConsole(r, privacy);
}

function registerPrivacyConsole(r: Router, privacy: PrivacyService): void {
  const page = async (actor: Actor, extra: Omit<PrivacyPageProps, 'actor' | 'retention' | 'lastPurge'> = {}) =>
    PrivacyPage({ actor, retention: await privacy.retention(), lastPurge: await privacy.lastPurge(), ...extra });

  r.route({
    method: 'GET',
    url: '/console/privacy',
    summary: 'Privacy: retention settings, the purge, and exporting or erasing a person',
    tags: ['console'],
    access: 'privacy.manage',
    page: true,
    query: z.object({ done: z.enum(['saved', 'reset', 'purged']).optional() }),
    responses: { 200: html },
    async handler({ query, actor, reply }) {
      const notice =
        query.done === 'saved'
          ? 'Retention saved.'
          : query.done === 'reset'
            ? 'Retention follows the configuration again.'
            : query.done === 'purged'
              ? 'Purge done: see the counts below.'
              : undefined;
      return sendPage(reply, await page(actor, { notice }));
    },
  });

  const formRoute = (
    url: string,
    summary: string,
    handle: (input: { body: Record<string, string>; actor: Actor; reply: Parameters<typeof sendPage>[0] }) => Promise<unknown>,
  ) =>
    r.route({
      method: 'POST',
      url,
      summary,
      tags: ['console'],
      access: 'privacy.manage',
      page: true,
      bodyContentType: 'application/x-www-form-urlencoded',
      body: form,
      responses: { 200: html, 303: { description: 'Done: back to the page' }, 422: html, ...STANDARD_ERRORS },
      async handler({ body, actor, reply }) {
        try {
          return await handle({ body, actor, reply });
        } catch (err) {
          if (!(err instanceof AppError) || err.status >= 500) throw err;
          return sendPage(reply, await page(actor, { error: err.message, subjectText: body.subject }), err.status);
        }
      },
    });

  formRoute('/console/privacy/retention', 'Save the retention periods', async ({ body, actor, reply }) => {
    const parsed = parseRetentionForm(body);
    if (!parsed.ok) return sendPage(reply, await page(actor, { form: body, errors: parsed.errors }), 422);
    await privacy.setRetention(actor, parsed.value);
    return reply.redirect('/console/privacy?done=saved', 303);
  });

  formRoute('/console/privacy/retention/reset', 'Go back to the configured retention periods', async ({ actor, reply }) => {
    await privacy.resetRetention(actor);
    return reply.redirect('/console/privacy?done=reset', 303);
  });

  formRoute('/console/privacy/purge', 'Run the retention purge now', async ({ actor, reply }) => {
    await privacy.purge({ actor });
    return reply.redirect('/console/privacy?done=purged', 303);
  });

  formRoute('/console/privacy/preview', 'Look a person up: rows per table', async ({ body, actor, reply }) => {
    const preview = await privacy.preview(body.subject);
    return sendPage(reply, await page(actor, { preview }));
  });

  formRoute('/console/privacy/export', 'Download everything held about a person (JSON)', async ({ body, actor, reply }) => {
    const doc = await privacy.exportPerson(actor, body.subject);
    return reply
      .code(200)
      .header('content-type', 'application/json; charset=utf-8')
      .header(
        'content-disposition',
        `attachment; filename="keepwarm-export-${doc.subject.kind}-${doc.generated_at.slice(0, 10)}.json"`,
      )
      .header('cache-control', 'no-store')
      .send(JSON.stringify(doc, null, 2));
  });

  formRoute('/console/privacy/erase', 'Erase a person from every table', async ({ body, actor, reply }) => {
    if (body.confirm !== 'yes')
      throw new AppError(422, 'confirmation_required', 'confirm: tick "I understand erasure cannot be undone" to erase.', {
        field: 'confirm',
      });
    const erased = await privacy.erase(actor, body.subject, { suppress: body.suppress === 'yes' });
    return sendPage(reply, await page(actor, { erased }));
  });
}
