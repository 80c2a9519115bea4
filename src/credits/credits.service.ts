import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Actor } from '../app/actor.js';
import { can, rolesFor } from '../app/roles.js';
import { recordAudit } from '../audit/audit.repo.js';
import type { Clock } from '../core/clock.js';
import { DAY, toIso } from '../core/clock.js';
import { CSV_BOM, csvRow } from '../core/csv.js';
import { conflict, forbidden, notFound, unprocessable } from '../core/errors.js';
import { newId } from '../core/ids.js';
import { CsvSyntaxError, parseCsv } from '../crm/import/csv.js';
import type { Database, Executor } from '../db/database.js';
import type { JobQueue } from '../db/jobs/job-queue.js';
import { defineJob, type JobHandler } from '../db/jobs/worker.js';
import { listComponents } from '../incidents/components.repo.js';
import { checkAccountRows, type RowError } from './accounts.js';
import {
  type CreditState,
  centsToDecimal,
  checkPolicy,
  computeCredit,
  formatBp,
  formatMoney,
  formatPpm,
  type MonthWindow,
  measureAccount,
  monthToClose,
  parseMonth,
  type SlaPolicy,
} from './credits.js';
import * as repo from './credits.repo.js';
import { outageSpans } from './outages.js';

export interface ComputeSummary {
  month: string;
  /** False while the month runs: figures may still change, and nothing can be decided yet. */
  month_complete: boolean;
  accounts: number;
  proposed: number;
  revised: number;
  withdrawn: number;
  unchanged: number;
  /** Approved or rejected entries are never rewritten; these would come out differently today. */
  decided_differs: Array<{
    credit_id: string;
    account_id: string;
    state: CreditState;
    amount_cents: number;
    recomputed_cents: number;
  }>;
  skipped: Array<{ account_id: string; name: string; reason: string }>;
  /** Sum of the month's entries awaiting a decision, per currency. */
  pending_cents: Record<string, number>;
}

export interface AccountImportSummary {
  dry_run: boolean;
  applied: boolean;
  rows: number;
  created: number;
  updated: number;
  unchanged: number;
  errors: number;
  error_list: RowError[];
}

export const EXPORT_COLUMNS = [
  'credit_id',
  'month',
  'account_external_id',
  'account_name',
  'plan',
  'currency',
  'monthly_fee',
  'availability_percent',
  'downtime_minutes',
  'credit_percent',
  'credit_amount',
  'approved_by',
  'approved_at',
] as const;

export const CLOSE_MONTH_JOB = 'credits.close_month';
const CLOSE_ACTOR: Actor = { type: 'system', id: null, name: 'Keepwarm monthly close', role: 'admin', ip: null };

function monthOrThrow(text: string): MonthWindow {
  const window = parseMonth(text);
  if (!window)
    throw unprocessable('invalid_month', `month: ${JSON.stringify(text)} is not a month such as 2025-06.`, { field: 'month' });
  return window;
}

function sameFigures(a: repo.CreditFigures, b: repo.Credit): boolean {
  return (
    a.plan === b.plan &&
    a.currency === b.currency &&
    a.feeCents === b.feeCents &&
    a.availabilityPpm === b.availabilityPpm &&
    a.downtimeMs === b.downtimeMs &&
    a.creditBp === b.creditBp &&
    a.capped === b.capped &&
    a.amountCents === b.amountCents &&
    a.thresholdCents === b.thresholdCents &&
    // Deep comparison: PostgreSQL's jsonb does not keep the key order it was given.
    isDeepStrictEqual(a.policy, b.policy) &&
    isDeepStrictEqual(a.incidents, b.incidents)
  );
}

/**
 * SLA credits: policies per plan, customer plans, monthly computation into the ledger
 * (idempotent), decisions with approval authority by amount, and the billing export. Every
 * change is in the audit log, in the transaction that makes it.
 */
export class CreditService {
  constructor(private readonly deps: { db: Database; clock: Clock; jobs: JobQueue; log: Logger }) {}

  // -- the monthly close ------------------------------------------------------------------------

  jobHandlers(): JobHandler[] {
    return [
      defineJob({
        kind: CLOSE_MONTH_JOB,
        payload: z.object({}).passthrough(),
        run: async () => {
          await this.closeMonth();
          await this.deps.db.tx((trx) => this.scheduleRecurring(trx));
          return undefined;
        },
      }),
    ];
  }

  /** Once a day (just after midnight UTC). */
  scheduleRecurring(trx: Executor): Promise<void> {
    return this.deps.jobs.scheduleRecurring(trx, CLOSE_MONTH_JOB, DAY);
  }

  /**
   * The daily close: in the first days of a month, compute the month just ended so approvers find
   * its credits without anyone running the computation; nothing when there is no account.
   */
  async closeMonth(): Promise<ComputeSummary | null> {
    const month = monthToClose(this.deps.clock.now());
    if (!month || (await repo.listAccountPlans(this.deps.db.kysely)).length === 0) return null;
    const summary = await this.compute(CLOSE_ACTOR, month.month);
    this.deps.log.info(
      { month: summary.month, proposed: summary.proposed, revised: summary.revised, withdrawn: summary.withdrawn },
      'credits: month closed',
    );
    return summary;
  }

  // -- policies ---------------------------------------------------------------------------------

  listPolicies(): Promise<SlaPolicy[]> {
    return repo.listPolicies(this.deps.db.kysely);
  }

  async setPolicy(actor: Actor, plan: string, input: unknown): Promise<SlaPolicy> {
    const checked = checkPolicy(plan, input);
    if (!checked.ok)
      throw unprocessable(
        'invalid_policy',
        `The policy is not valid: ${checked.errors.map((e) => `${e.field}: ${e.message}`).join('; ')}.`,
        checked.errors.map((e) => ({ field: e.field, message: e.message })),
      );
    const { db, clock } = this.deps;
    const now = clock.now();
    await db.tx(async (trx) => {
      const before = (await repo.listPolicies(trx)).find((p) => p.plan === plan);
      await repo.upsertPolicy(trx, checked.policy, now, actor.id);
      await recordAudit(trx, {
        at: now,
        actor,
        action: 'credits.policy.set',
        target: { type: 'sla_policy', id: plan },
        details: { created: before === undefined, policy: { ...checked.policy, note: undefined } },
      });
    });
    return checked.policy;
  }

  // -- accounts ---------------------------------------------------------------------------------

  listAccounts(): Promise<repo.AccountPlan[]> {
    return repo.listAccountPlans(this.deps.db.kysely);
  }

  /** Customer plans from CSV: all or nothing; matched to CRM accounts by external_id (created when new). */
  async importAccounts(actor: Actor, text: string, options: { dryRun?: boolean } = {}): Promise<AccountImportSummary> {
    const { db, clock } = this.deps;
    const dryRun = options.dryRun === true;
    const fail = (error_list: RowError[], rows: number): AccountImportSummary => ({
      dry_run: dryRun,
      applied: false,
      rows,
      created: 0,
      updated: 0,
      unchanged: 0,
      errors: error_list.length,
      error_list,
    });
    let records: ReturnType<typeof parseCsv>;
    try {
      records = parseCsv(text);
    } catch (err) {
      if (err instanceof CsvSyntaxError) return fail([{ row: err.row, column: '(row)', message: err.message }], 0);
      throw err;
    }
    const [policies, components] = await Promise.all([repo.listPolicies(db.kysely), listComponents(db.kysely)]);
    const { accounts, errors } = checkAccountRows(records, {
      plans: new Set(policies.map((p) => p.plan)),
      components: components.map((c) => ({ id: c.id, name: c.name })),
    });
    const rows = Math.max(0, records.length - 1);
    if (errors.length > 0) return fail(errors, rows);

    const existing = await repo.findAccountsByExternalId(
      db.kysely,
      accounts.map((a) => a.externalId),
    );
    let created = 0;
    let updated = 0;
    let unchanged = 0;
    const plan = accounts.map((a) => {
      const found = existing.get(a.externalId);
      const components = JSON.stringify(a.components);
      const regions = JSON.stringify(a.regions);
      const same =
        found?.plan !== undefined &&
        found.account.name === a.name &&
        (a.domain === null || found.account.domain === a.domain) &&
        found.plan.plan === a.plan &&
        Number(found.plan.monthly_fee_cents) === a.monthlyFeeCents &&
        found.plan.currency === a.currency &&
        found.plan.components === components &&
        found.plan.regions === regions;
      if (!found) created++;
      else if (same) unchanged++;
      else updated++;
      return { input: a, found, same, components, regions };
    });
    if (dryRun || created + updated === 0)
      return { dry_run: dryRun, applied: false, rows, created, updated, unchanged, errors: 0, error_list: [] };

    const now = clock.now();
    await db.tx(async (trx) => {
      let n = 0;
      for (const p of plan) {
        if (p.same) continue;
        const a = p.input;
        let accountId: string;
        if (p.found) {
          accountId = p.found.account.id;
          await trx
            .updateTable('accounts')
            .set({ name: a.name, ...(a.domain !== null && { domain: a.domain }), updated_at: now })
            .where('id', '=', accountId)
            .execute();
        } else {
          accountId = newId(now + n++);
          await trx
            .insertInto('accounts')
            .values({
              id: accountId,
              name: a.name,
              domain: a.domain,
              external_id: a.externalId,
              arr: null,
              owner_id: null,
              created_at: now,
              updated_at: now,
            })
            .execute();
        }
        const values = {
          plan: a.plan,
          monthly_fee_cents: a.monthlyFeeCents,
          currency: a.currency,
          components: p.components,
          regions: p.regions,
          updated_at: now,
        };
        await trx
          .insertInto('account_plans')
          .values({ account_id: accountId, ...values, created_at: now })
          .onConflict((oc) => oc.column('account_id').doUpdateSet(values))
          .execute();
      }
      await recordAudit(trx, {
        at: now,
        actor,
        action: 'credits.accounts.import',
        details: { rows, created, updated, unchanged },
      });
    });
    return { dry_run: false, applied: true, rows, created, updated, unchanged, errors: 0, error_list: [] };
  }

  // -- computation ------------------------------------------------------------------------------

  /**
   * Compute every account's credit for a month into the ledger. Idempotent: an account has one
   * entry per month; an undecided entry is revised when its figures change (withdrawn when the
   * credit falls to zero); a decided one is never rewritten (differences are reported).
   */
  async compute(actor: Actor, monthText: string): Promise<ComputeSummary> {
    const { db, clock } = this.deps;
    const window = monthOrThrow(monthText);
    const now = clock.now();
    if (window.start > now)
      throw unprocessable('future_month', `month: ${window.month} has not started yet.`, { field: 'month' });
    const [policies, accounts, facts] = await Promise.all([
      repo.listPolicies(db.kysely),
      repo.listAccountPlans(db.kysely),
      repo.loadOutageFacts(db.kysely, window.start, Math.min(window.end, now)),
    ]);
    const policyOf = new Map(policies.map((p) => [p.plan, p]));
    const spans = outageSpans(facts.incidents, facts.events, facts.links, now);
    const names = await repo.incidentNames(
      db.kysely,
      facts.incidents.map((i) => i.id),
    );

    const summary: ComputeSummary = {
      month: window.month,
      month_complete: window.end <= now,
      accounts: accounts.length,
      proposed: 0,
      revised: 0,
      withdrawn: 0,
      unchanged: 0,
      decided_differs: [],
      skipped: [],
      pending_cents: {},
    };
    const results: Array<{ account: repo.AccountPlan; figures: repo.CreditFigures }> = [];
    for (const account of accounts) {
      const policy = policyOf.get(account.plan);
      if (!policy) {
        summary.skipped.push({
          account_id: account.accountId,
          name: account.name,
          reason: `no SLA policy for plan ${account.plan}`,
        });
        continue;
      }
      const m = measureAccount(spans, account, policy, window);
      const credit = computeCredit(policy, m, account.monthlyFeeCents);
      results.push({
        account,
        figures: {
          plan: policy.plan,
          currency: account.currency,
          feeCents: account.monthlyFeeCents,
          availabilityPpm: m.availabilityPpm,
          downtimeMs: m.downtimeMs,
          creditBp: credit.creditBp,
          capped: credit.capped,
          amountCents: credit.amountCents,
          thresholdCents: policy.approval_threshold_cents,
          policy,
          incidents: m.incidents.map((i) => ({ ...i, name: names.get(i.incident_id) ?? i.incident_id })),
        },
      });
    }

    await db.tx(async (trx) => {
      const existing = new Map(
        (await repo.listCredits(trx, { month: window.month, limit: 1_000_000 })).map((c) => [c.accountId, c]),
      );
      let n = 0;
      for (const { account, figures } of results) {
        const entry = existing.get(account.accountId);
        const target = { type: 'credit', id: entry?.id ?? '' };
        const details = {
          account_id: account.accountId,
          month: window.month,
          amount_cents: figures.amountCents,
          currency: figures.currency,
        };
        if (!entry) {
          if (figures.amountCents === 0) continue;
          const id = newId(now + n++);
          if (await repo.insertCredit(trx, { id, accountId: account.accountId, month: window.month, figures, now })) {
            summary.proposed++;
            await recordAudit(trx, { at: now, actor, action: 'credit.propose', target: { type: 'credit', id }, details });
          } else summary.unchanged++;
          continue;
        }
        if (entry.state === 'approved' || entry.state === 'rejected') {
          summary.unchanged++;
          if (entry.amountCents !== figures.amountCents)
            summary.decided_differs.push({
              credit_id: entry.id,
              account_id: account.accountId,
              state: entry.state,
              amount_cents: entry.amountCents,
              recomputed_cents: figures.amountCents,
            });
          continue;
        }
        const state = figures.amountCents === 0 ? 'withdrawn' : 'proposed';
        if (state === entry.state && sameFigures(figures, entry)) {
          summary.unchanged++;
          continue;
        }
        if (!(await repo.reviseCredit(trx, entry.id, { state, figures, now }))) continue;
        if (state === 'withdrawn' && entry.state === 'withdrawn') {
          summary.unchanged++;
          continue;
        }
        if (state === 'withdrawn') summary.withdrawn++;
        else summary.revised++;
        await recordAudit(trx, {
          at: now,
          actor,
          action: state === 'withdrawn' ? 'credit.withdraw' : 'credit.revise',
          target,
          details: { ...details, previous_cents: entry.amountCents, previous_state: entry.state },
        });
      }
      for (const c of await repo.listCredits(trx, { month: window.month, state: 'proposed', limit: 1_000_000 }))
        summary.pending_cents[c.currency] = (summary.pending_cents[c.currency] ?? 0) + c.amountCents;
      await recordAudit(trx, {
        at: now,
        actor,
        action: 'credits.compute',
        target: { type: 'credit_month', id: window.month },
        details: {
          accounts: summary.accounts,
          proposed: summary.proposed,
          revised: summary.revised,
          withdrawn: summary.withdrawn,
          unchanged: summary.unchanged,
          skipped: summary.skipped.length,
          month_complete: summary.month_complete,
        },
      });
    });
    return summary;
  }

  // -- the ledger -------------------------------------------------------------------------------

  list(filter: { month?: string | undefined; state?: CreditState | undefined; limit?: number }): Promise<repo.Credit[]> {
    if (filter.month !== undefined) monthOrThrow(filter.month);
    return repo.listCredits(this.deps.db.kysely, { month: filter.month, state: filter.state, limit: filter.limit ?? 500 });
  }

  async get(id: string): Promise<repo.Credit> {
    const credit = await repo.findCredit(this.deps.db.kysely, id);
    if (!credit) throw notFound('Credit', id);
    return credit;
  }

  /** Whether this actor may decide this credit (its amount against the policy's threshold). */
  mayDecide(actor: Actor, credit: Pick<repo.Credit, 'amountCents' | 'thresholdCents'>): boolean {
    if (!can(actor.role, 'credits.approve')) return false;
    return credit.amountCents <= credit.thresholdCents || can(actor.role, 'credits.approve_above_threshold');
  }

  approve(actor: Actor, id: string, input: { note?: string | null | undefined; amountCents?: number | undefined }) {
    return this.#decide(actor, id, 'approved', input);
  }

  reject(actor: Actor, id: string, input: { note?: string | null | undefined; amountCents?: number | undefined }) {
    return this.#decide(actor, id, 'rejected', input);
  }

  async #decide(
    actor: Actor,
    id: string,
    decision: 'approved' | 'rejected',
    input: { note?: string | null | undefined; amountCents?: number | undefined },
  ): Promise<repo.Credit> {
    const { db, clock } = this.deps;
    const note = input.note?.trim() || null;
    if (decision === 'rejected' && note === null)
      throw unprocessable('note_required', 'note: a rejection needs a reason.', { field: 'note' });
    if (note !== null && note.length > 1000)
      throw unprocessable('note_too_long', 'note: at most 1000 characters.', { field: 'note' });
    const now = clock.now();
    await db.tx(async (trx) => {
      const credit = await repo.findCredit(trx, id, db.dialect);
      if (!credit) throw notFound('Credit', id);
      if (credit.state !== 'proposed')
        throw conflict(
          credit.state === 'withdrawn' ? 'credit_withdrawn' : 'already_decided',
          credit.state === 'withdrawn'
            ? 'This credit was withdrawn by a later computation (the account met its target); there is nothing to decide.'
            : `This credit was already ${credit.state}${credit.decidedByName ? ` by ${credit.decidedByName}` : ''}.`,
          { state: credit.state },
        );
      const window = parseMonth(credit.month) as MonthWindow;
      if (window.end > now)
        throw conflict(
          'month_open',
          `${credit.month} is not over until ${toIso(window.end)}: its figures may still change, so it cannot be decided yet.`,
          { month: credit.month },
        );
      if (input.amountCents !== undefined && input.amountCents !== credit.amountCents)
        throw conflict(
          'amount_changed',
          `The credit was recomputed: it is now ${formatMoney(credit.amountCents, credit.currency)}, not ${formatMoney(input.amountCents, credit.currency)}. Review it again.`,
          { amount_cents: credit.amountCents },
        );
      const above = credit.amountCents > credit.thresholdCents;
      if (!this.mayDecide(actor, credit))
        throw forbidden(
          'approval_authority',
          `This credit of ${formatMoney(credit.amountCents, credit.currency)} is above the ${formatMoney(credit.thresholdCents, credit.currency)} approval threshold of plan ${credit.plan}: only ${rolesFor('credits.approve_above_threshold').join(' or ')} may decide it (your role: ${actor.role}).`,
        );
      await repo.decideCredit(trx, id, {
        state: decision,
        now,
        actorId: actor.id,
        actorName: actor.name,
        role: actor.role,
        note,
      });
      await recordAudit(trx, {
        at: now,
        actor,
        action: decision === 'approved' ? 'credit.approve' : 'credit.reject',
        target: { type: 'credit', id },
        details: {
          account_id: credit.accountId,
          month: credit.month,
          amount_cents: credit.amountCents,
          currency: credit.currency,
          threshold_cents: credit.thresholdCents,
          above_threshold: above,
          with_note: note !== null,
        },
      });
    });
    return this.get(id);
  }

  /** Approved credits of a month as CSV for billing (RFC 4180, UTF-8 with BOM, formula-looking text defused). */
  async exportCsv(monthText: string): Promise<string> {
    const window = monthOrThrow(monthText);
    const credits = await repo.approvedForExport(this.deps.db.kysely, window.month);
    let out = CSV_BOM + csvRow(EXPORT_COLUMNS);
    for (const c of credits) {
      out += csvRow([
        c.id,
        c.month,
        c.accountExternalId ?? '',
        c.accountName,
        c.plan,
        c.currency,
        centsToDecimal(c.feeCents),
        formatPpm(c.availabilityPpm),
        (Math.round(c.downtimeMs / 6_000) / 10).toFixed(1),
        formatBp(c.creditBp),
        centsToDecimal(c.amountCents),
        c.decidedByName ?? '',
        c.decidedAt === null ? '' : toIso(c.decidedAt),
      ]);
    }
    return out;
  }
}
