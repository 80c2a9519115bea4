import { z } from 'zod';
import type { Actor } from '../app/actor.js';
import { STANDARD_ERRORS } from '../app/openapi.js';
import { Router } from '../app/router.js';
import { sendPage } from '../console/layout.js';
import { toIso } from '../core/clock.js';
import { AppError, badRequest } from '../core/errors.js';
import { CREDIT_STATES, type CreditState, formatMoney, MONTH_PATTERN, parseMonth, previousMonth } from './credits.js';
import { CreditLedgerPage, CreditQueuePage } from './credits.pages.js';
import type { Credit } from './credits.repo.js';
import type { CreditService } from './credits.service.js';

/** Largest accounts CSV POST /api/v1/credits/accounts/import accepts. */
export const ACCOUNTS_BODY_LIMIT = 5 * 1024 * 1024;

const html = { description: 'HTML page', contentType: 'text/html' };
const month = z.string().regex(MONTH_PATTERN, 'a month such as 2025-06');
const optionalMonth = z.preprocess((v) => (v === '' ? undefined : v), month.optional());
const optionalState = z.preprocess((v) => (v === '' ? undefined : v), z.enum(CREDIT_STATES).optional());
const flag = z
  .enum(['true', 'false', '1', '0'])
  .optional()
  .transform((v) => v === 'true' || v === '1');

const creditSchema = z.object({
  id: z.string(),
  account: z.object({ id: z.string(), external_id: z.string().nullable(), name: z.string() }),
  month: z.string(),
  state: z.enum(CREDIT_STATES),
  plan: z.string(),
  currency: z.string(),
  fee_cents: z.number().int(),
  availability_percent: z.number().describe('Rounded down to 4 decimals (99.6863)'),
  availability_ppm: z.number().int(),
  downtime_minutes: z.number().describe('Weighted (partial outage and degraded performance count by the policy weights)'),
  credit_percent: z.number(),
  capped: z.boolean(),
  amount_cents: z.number().int(),
  approval_threshold_cents: z.number().int(),
  above_threshold: z.boolean(),
  incidents: z.array(
    z.object({
      incident_id: z.string(),
      name: z.string().optional(),
      downtime_minutes: z.number(),
      affected_minutes: z.number(),
    }),
  ),
  computed_at: z.string(),
  decided_at: z.string().nullable(),
  decided_by: z.object({ id: z.string().nullable(), name: z.string().nullable(), role: z.string().nullable() }).nullable(),
  decision_note: z.string().nullable(),
});

function creditJson(c: Credit): z.infer<typeof creditSchema> {
  return {
    id: c.id,
    account: { id: c.accountId, external_id: c.accountExternalId, name: c.accountName },
    month: c.month,
    state: c.state,
    plan: c.plan,
    currency: c.currency,
    fee_cents: c.feeCents,
    availability_percent: c.availabilityPpm / 10_000,
    availability_ppm: c.availabilityPpm,
    downtime_minutes: Math.round(c.downtimeMs / 6_000) / 10,
    credit_percent: c.creditBp / 100,
    capped: c.capped,
    amount_cents: c.amountCents,
    approval_threshold_cents: c.thresholdCents,
    above_threshold: c.amountCents > c.thresholdCents,
    incidents: c.incidents,
    computed_at: toIso(c.computedAt),
    decided_at: c.decidedAt === null ? null : toIso(c.decidedAt),
    decided_by: c.decidedAt === null ? null : { id: c.decidedBy, name: c.decidedByName, role: c.decidedRole },
    decision_note: c.decisionNote,
  };
}

const policySchema = z.object({
  plan: z.string(),
  target_percent: z.number(),
  bands: z.array(z.object({ below_percent: z.number(), credit_percent: z.number() })),
  cap_percent: z.number(),
  partial_outage_weight: z.number(),
  degraded_performance_weight: z.number(),
  approval_threshold_cents: z.number().int(),
  note: z.string().nullable(),
});

const accountSchema = z.object({
  account_id: z.string(),
  external_id: z.string().nullable(),
  name: z.string(),
  domain: z.string().nullable(),
  plan: z.string(),
  monthly_fee_cents: z.number().int(),
  currency: z.string(),
  components: z.array(z.string()),
  regions: z.array(z.string()),
});

const importSummarySchema = z.object({
  dry_run: z.boolean(),
  applied: z.boolean(),
  rows: z.number(),
  created: z.number(),
  updated: z.number(),
  unchanged: z.number(),
  errors: z.number(),
  error_list: z.array(z.object({ row: z.number(), column: z.string(), message: z.string() })),
});

const computeSummarySchema = z.record(z.string(), z.unknown());
const decisionBody = z.strictObject({
  note: z.string().max(1000).nullable().optional(),
  amount_cents: z.number().int().optional().describe('The amount the approver saw: 409 if a recomputation changed it since'),
});

const POLICY_DESCRIPTION = [
  'Body: {"target_percent": 99.9, "bands": [{"below_percent": 99.9, "credit_percent": 10}, {"below_percent": 99, "credit_percent": 25}, {"below_percent": 95, "credit_percent": 50}], "cap_percent": 50, "partial_outage_weight": 0.5, "degraded_performance_weight": 0, "approval_threshold_cents": 50000, "note": "Agreed with legal, 2025-01"}.',
  'Availability below a band earns its share of the monthly fee (the lowest band that applies), never more than cap_percent. A minute of major outage counts 1, partial outage and degraded performance count their weights; maintenance never counts.',
  'Credits above approval_threshold_cents need legal or admin. Every fault is named by field (bands[1].credit_percent) and nothing is stored (422).',
].join('\n');

function registerAccountImport(r: Router, credits: CreditService): void {
  r.route({
    method: 'POST',
    url: '/api/v1/credits/accounts/import',
    summary: 'Import customer plans from CSV (external_id,name,plan,monthly_fee,currency,components,regions,domain)',
    description:
      'All or nothing: any row with an error and nothing is written (422); every error names its row (header = row 1) and column. ' +
      'Rows match CRM accounts by external_id (created when new). components and regions are lists separated by ";" ' +
      '(empty: all); components by id or name. monthly_fee such as 1250.00; currency defaults to USD. dry_run=true only checks.',
    tags: ['credits'],
    access: 'credits.configure',
    bodyContentType: 'text/csv',
    query: z.strictObject({ dry_run: flag }),
    responses: {
      200: { description: 'Imported (or checked)', schema: importSummarySchema },
      422: { description: 'Rows with errors: nothing imported', schema: importSummarySchema },
      ...STANDARD_ERRORS,
    },
    async handler({ query, req, reply, actor }) {
      const type = String(req.headers['content-type'] ?? '')
        .split(';')[0]
        ?.trim()
        .toLowerCase();
      if (type !== 'text/csv') throw badRequest('unsupported_type', 'content-type: send the accounts as text/csv');
      const text = typeof req.body === 'string' ? req.body : '';
      if (text.trim() === '') throw badRequest('validation_failed', 'body: send the accounts CSV as the request body');
      const summary = await credits.importAccounts(actor, text, { dryRun: query.dry_run });
      if (summary.errors > 0) reply.code(422);
      return summary;
    },
  });
}

/** API (/api/v1/credits/...) and console (/console/credits) of SLA credits. */
export function registerCreditRoutes(r: Router, credits: CreditService, clock: { now(): number }): void {
  // -- policies and accounts ----------------------------------------------------------------------

  r.route({
    method: 'GET',
    url: '/api/v1/credits/policies',
    summary: 'SLA policies, one per plan',
    tags: ['credits'],
    access: 'credits.read',
    responses: { 200: { description: 'Policies', schema: z.array(policySchema) }, ...STANDARD_ERRORS },
    async handler() {
      return credits.listPolicies();
    },
  });

  r.route({
    method: 'PUT',
    url: '/api/v1/credits/policies/:plan',
    summary: "Create or replace a plan's SLA policy (target, credit bands, cap, weights, approval threshold)",
    description: POLICY_DESCRIPTION,
    tags: ['credits'],
    access: 'credits.configure',
    params: z.object({ plan: z.string().min(1).max(100) }),
    body: z.record(z.string(), z.unknown()),
    responses: {
      200: { description: 'The stored policy (bands sorted)', schema: policySchema },
      422: { description: 'Fields at fault, each named' },
      ...STANDARD_ERRORS,
    },
    async handler({ params, body, actor }) {
      return credits.setPolicy(actor, params.plan, body);
    },
  });

  r.route({
    method: 'GET',
    url: '/api/v1/credits/accounts',
    summary: 'Customer accounts with their plan, monthly fee and the components and regions they use',
    tags: ['credits'],
    access: 'credits.read',
    responses: { 200: { description: 'Accounts', schema: z.array(accountSchema) }, ...STANDARD_ERRORS },
    async handler() {
      return (await credits.listAccounts()).map((a) => ({
        account_id: a.accountId,
        external_id: a.externalId,
        name: a.name,
        domain: a.domain,
        plan: a.plan,
        monthly_fee_cents: a.monthlyFeeCents,
        currency: a.currency,
        components: a.components,
        regions: a.regions,
      }));
    },
  });

  // The CSV import reads its body as text in a scope of its own (other features' parsers untouched).
  r.app.register(async (scope) => {
    if (!scope.hasContentTypeParser('text/csv'))
      scope.addContentTypeParser('text/csv', { parseAs: 'string', bodyLimit: ACCOUNTS_BODY_LIMIT }, (_req, body, done) =>
        done(null, body),
      );
    registerAccountImport(new Router(scope, r.auth, r.openapi), credits);
  });

  // -- the ledger -------------------------------------------------------------------------------

  r.route({
    method: 'POST',
    url: '/api/v1/credits/compute',
    summary: "Compute every account's credit for a month into the ledger (idempotent)",
    description:
      'Availability per account from the incidents that touched its components and regions (drills excluded), credit by its ' +
      "plan's policy. New credits are proposed; undecided ones are revised, or withdrawn when they fall to zero; approved and " +
      'rejected ones are never rewritten (decided_differs lists those that would change). The running month may be computed ' +
      '(month_complete: false) but not decided.',
    tags: ['credits'],
    access: 'credits.compute',
    body: z.strictObject({ month }),
    responses: {
      200: { description: 'What changed', schema: computeSummarySchema },
      422: { description: 'A month not started yet' },
      ...STANDARD_ERRORS,
    },
    async handler({ body, actor }) {
      return credits.compute(actor, body.month);
    },
  });

  r.route({
    method: 'GET',
    url: '/api/v1/credits',
    summary: 'The credit ledger, by month and state (newest month first, largest amounts first)',
    tags: ['credits'],
    access: 'credits.read',
    query: z.strictObject({
      month: optionalMonth,
      state: optionalState,
      limit: z.coerce.number().int().min(1).max(5000).default(500),
    }),
    responses: { 200: { description: 'Entries', schema: z.array(creditSchema) }, ...STANDARD_ERRORS },
    async handler({ query }) {
      return (await credits.list({ month: query.month, state: query.state, limit: query.limit })).map(creditJson);
    },
  });

  r.route({
    method: 'GET',
    url: '/api/v1/credits/export.csv',
    summary: 'Approved credits of a month as CSV for billing; text that looks like a formula is defused',
    tags: ['credits'],
    access: 'credits.export',
    query: z.strictObject({ month }),
    responses: { 200: { description: 'CSV (RFC 4180, UTF-8 with BOM)', contentType: 'text/csv' }, ...STANDARD_ERRORS },
    async handler({ query, reply }) {
      const csv = await credits.exportCsv(query.month);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="sla-credits-${query.month}.csv"`)
        .header('cache-control', 'no-store')
        .send(csv);
    },
  });

  r.route({
    method: 'GET',
    url: '/api/v1/credits/:id',
    summary: 'One ledger entry with its figures, the policy used and the incidents counted',
    tags: ['credits'],
    access: 'credits.read',
    params: z.object({ id: z.string().min(1).max(100) }),
    responses: {
      200: { description: 'The entry', schema: creditSchema },
      404: { description: 'No such credit' },
      ...STANDARD_ERRORS,
    },
    async handler({ params }) {
      return creditJson(await credits.get(params.id));
    },
  });

  for (const decision of ['approve', 'reject'] as const) {
    r.route({
      method: 'POST',
      url: `/api/v1/credits/:id/${decision}`,
      summary:
        decision === 'approve'
          ? 'Approve a proposed credit (above its approval threshold: legal or admin only)'
          : 'Reject a proposed credit with a reason (above its approval threshold: legal or admin only)',
      tags: ['credits'],
      access: 'credits.approve',
      params: z.object({ id: z.string().min(1).max(100) }),
      body: decisionBody,
      responses: {
        200: { description: 'The decided entry', schema: creditSchema },
        403: { description: 'Role not allowed, or the amount is above the threshold for this role' },
        404: { description: 'No such credit' },
        409: { description: 'Already decided, withdrawn, the month is not over, or the amount changed since' },
        422: { description: 'A rejection without a reason' },
        ...STANDARD_ERRORS,
      },
      async handler({ params, body, actor }) {
        const input = { note: body.note, amountCents: body.amount_cents };
        const credit =
          decision === 'approve' ? await credits.approve(actor, params.id, input) : await credits.reject(actor, params.id, input);
        return creditJson(credit);
      },
    });
  }

  // -- console ----------------------------------------------------------------------------------

  const queuePage = async (
    actor: Actor,
    extra: { notice?: string | undefined; error?: string | undefined; month?: string } = {},
  ) => {
    const now = clock.now();
    const queue = await credits.list({ state: 'proposed', limit: 1000 });
    return CreditQueuePage({
      actor,
      queue: queue.sort((a, b) => a.month.localeCompare(b.month) || b.amountCents - a.amountCents),
      now,
      month: extra.month ?? previousMonth(now).month,
      mayDecide: (c) => credits.mayDecide(actor, c),
      isOpen: (c) => (parseMonth(c.month)?.end ?? 0) > now,
      notice: extra.notice,
      error: extra.error,
    });
  };

  const consoleError = async (actor: Actor, err: unknown, month?: string) => {
    if (!(err instanceof AppError) || err.status >= 500) throw err;
    return { page: await queuePage(actor, { error: err.message, ...(month !== undefined && { month }) }), status: err.status };
  };

  r.route({
    method: 'GET',
    url: '/console/credits',
    summary: 'SLA credits awaiting a decision: approve or reject (above the threshold: legal or admin); compute a month',
    tags: ['console'],
    access: 'credits.read',
    page: true,
    query: z.object({
      computed: optionalMonth,
      proposed: z.coerce.number().int().min(0).optional(),
      revised: z.coerce.number().int().min(0).optional(),
      withdrawn: z.coerce.number().int().min(0).optional(),
      decided: z.enum(['approved', 'rejected']).optional(),
      credit: z.string().max(100).optional(),
    }),
    responses: { 200: html },
    async handler({ query, actor, reply }) {
      let notice: string | undefined;
      if (query.computed)
        notice = `Credits for ${query.computed} computed: ${query.proposed ?? 0} proposed, ${query.revised ?? 0} revised, ${query.withdrawn ?? 0} withdrawn.`;
      if (query.decided && query.credit) {
        const c = await credits.get(query.credit).catch(() => null);
        notice = c
          ? `${query.decided === 'approved' ? 'Approved' : 'Rejected'}: ${formatMoney(c.amountCents, c.currency)} for ${c.accountName} (${c.month}).`
          : `Credit ${query.decided}.`;
      }
      return sendPage(reply, await queuePage(actor, { notice, ...(query.computed && { month: query.computed }) }));
    },
  });

  r.route({
    method: 'POST',
    url: '/console/credits/compute',
    summary: 'Compute the credits of a month (console form)',
    tags: ['console'],
    access: 'credits.compute',
    page: true,
    bodyContentType: 'application/x-www-form-urlencoded',
    body: z.record(z.string(), z.string()),
    responses: { 303: { description: 'Back to the queue' }, 422: html, ...STANDARD_ERRORS },
    async handler({ body, actor, reply }) {
      const m = (body.month ?? '').trim();
      try {
        const s = await credits.compute(actor, m);
        return reply.redirect(
          `/console/credits?computed=${s.month}&proposed=${s.proposed}&revised=${s.revised}&withdrawn=${s.withdrawn}`,
          303,
        );
      } catch (err) {
        const { page, status } = await consoleError(actor, err, m);
        return sendPage(reply, page, status);
      }
    },
  });

  for (const decision of ['approve', 'reject'] as const) {
    r.route({
      method: 'POST',
      url: `/console/credits/:id/${decision}`,
      summary:
        decision === 'approve'
          ? 'Approve a proposed credit (console form)'
          : 'Reject a proposed credit with a reason (console form)',
      tags: ['console'],
      access: 'credits.approve',
      page: true,
      params: z.object({ id: z.string().min(1).max(100) }),
      bodyContentType: 'application/x-www-form-urlencoded',
      body: z.record(z.string(), z.string()),
      responses: { 303: { description: 'Back to the queue' }, 403: html, 409: html, 422: html, ...STANDARD_ERRORS },
      async handler({ params, body, actor, reply }) {
        const amount = body.amount_cents !== undefined && /^\d+$/.test(body.amount_cents) ? Number(body.amount_cents) : undefined;
        const input = { note: body.note ?? null, amountCents: amount };
        try {
          if (decision === 'approve') await credits.approve(actor, params.id, input);
          else await credits.reject(actor, params.id, input);
          return reply.redirect(
            `/console/credits?decided=${decision === 'approve' ? 'approved' : 'rejected'}&credit=${encodeURIComponent(params.id)}`,
            303,
          );
        } catch (err) {
          const { page, status } = await consoleError(actor, err);
          return sendPage(reply, page, status);
        }
      },
    });
  }

  r.route({
    method: 'GET',
    url: '/console/credits/ledger',
    summary: 'The SLA credit ledger by month and state, the policies, and the billing export link',
    tags: ['console'],
    access: 'credits.read',
    page: true,
    query: z.object({ month: optionalMonth, state: optionalState }),
    responses: { 200: html },
    async handler({ query, actor, reply }) {
      const month = query.month ?? (query.state ? undefined : previousMonth(clock.now()).month);
      const [list, policies] = await Promise.all([
        credits.list({ month, state: query.state as CreditState | undefined, limit: 2000 }),
        credits.listPolicies(),
      ]);
      return sendPage(reply, CreditLedgerPage({ actor, credits: list, policies, month, state: query.state }));
    },
  });
}
