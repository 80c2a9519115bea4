import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Actor } from '../app/actor.js';
import { createServices } from '../app/services.js';
import { type CommonOptions, configFrom, withCommonOptions } from '../cli/common.js';
import { systemClock } from '../core/clock.js';
import { AppError } from '../core/errors.js';
import { createLogger } from '../core/log.js';
import { openDatabase } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import { formatMoney } from './credits.js';
import type { AccountImportSummary, ComputeSummary, CreditService } from './credits.service.js';

interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

const CLI_ACTOR: Actor = { type: 'system', id: null, name: 'keepwarm CLI', role: 'admin', ip: null };

export function formatComputeSummary(s: ComputeSummary): string[] {
  const lines = [
    `credits for ${s.month}${s.month_complete ? '' : ' (month not over: figures may still change, nothing can be decided yet)'}: ` +
      `${s.accounts} accounts, ${s.proposed} proposed, ${s.revised} revised, ${s.withdrawn} withdrawn, ${s.unchanged} unchanged`,
  ];
  for (const [currency, cents] of Object.entries(s.pending_cents))
    lines.push(`  awaiting a decision: ${formatMoney(cents, currency)}`);
  for (const d of s.decided_differs)
    lines.push(
      `  ${d.state} credit ${d.credit_id} (account ${d.account_id}) would now be ${d.recomputed_cents} cents, not ${d.amount_cents}`,
    );
  for (const k of s.skipped) lines.push(`  skipped ${k.name} (${k.account_id}): ${k.reason}`);
  return lines;
}

export function formatImportSummary(s: AccountImportSummary): string[] {
  const lines = s.error_list.map((e) => `  row ${e.row}, ${e.column}: ${e.message}`);
  const verb = s.dry_run ? 'checked (nothing written)' : s.applied ? 'imported' : s.errors > 0 ? 'NOT imported' : 'unchanged';
  lines.push(`${verb}: ${s.rows} rows, ${s.created} created, ${s.updated} updated, ${s.unchanged} unchanged, ${s.errors} errors`);
  return lines;
}

/** keepwarm credits compute | import-accounts | policy | export */
export function registerCreditCommands(program: Command, io: Io): void {
  const out = (line: string) => io.stdout.write(`${line}\n`);
  const withCredits = async <T>(options: CommonOptions, fn: (credits: CreditService) => Promise<T>): Promise<T> => {
    const config = configFrom(options);
    const db = openDatabase(config.databaseUrl);
    try {
      await migrateToLatest(db);
      return await fn(createServices({ config, db, clock: systemClock, log: createLogger(options.logLevel ?? 'warn') }).credits);
    } finally {
      await db.close();
    }
  };
  const credits = program
    .command('credits')
    .description('SLA credits: compute a month, import customer plans, set policies, export');

  withCommonOptions(credits.command('compute'))
    .description("compute every account's credit for a month into the ledger (idempotent: run it again after corrections)")
    .requiredOption('--month <YYYY-MM>', 'the month (UTC)')
    .action(async (o: CommonOptions & { month: string }) => {
      const summary = await withCredits(o, (c) => c.compute(CLI_ACTOR, o.month));
      for (const line of formatComputeSummary(summary)) out(line);
    });

  withCommonOptions(credits.command('import-accounts'))
    .description(
      'import customer plans from CSV: external_id,name,plan,monthly_fee,currency,components,regions,domain (all or nothing)',
    )
    .argument('<file>', 'the CSV file')
    .option('--dry-run', 'check every row; write nothing')
    .action(async (file: string, o: CommonOptions & { dryRun?: boolean }) => {
      const text = readFileSync(file, 'utf8');
      const summary = await withCredits(o, (c) => c.importAccounts(CLI_ACTOR, text, { dryRun: o.dryRun === true }));
      for (const line of formatImportSummary(summary)) out(line);
      if (summary.errors > 0) throw new AppError(422, 'import_failed', `${file}: ${summary.errors} errors; nothing imported.`);
    });

  withCommonOptions(credits.command('policy'))
    .description("create or replace a plan's SLA policy from a JSON file (see docs/credits.md)")
    .argument('<plan>', 'the plan, such as enterprise')
    .argument('<file>', 'the policy as JSON')
    .action(async (plan: string, file: string, o: CommonOptions) => {
      let body: unknown;
      try {
        body = JSON.parse(readFileSync(file, 'utf8'));
      } catch (err) {
        throw new AppError(422, 'invalid_json', `${file}: not valid JSON (${err instanceof Error ? err.message : String(err)}).`);
      }
      const policy = await withCredits(o, (c) => c.setPolicy(CLI_ACTOR, plan, body));
      out(`policy ${policy.plan}: target ${policy.target_percent} %, ${policy.bands.length} bands, cap ${policy.cap_percent} %`);
    });

  withCommonOptions(credits.command('export'))
    .description('write the approved credits of a month as CSV for billing')
    .requiredOption('--month <YYYY-MM>', 'the month (UTC)')
    .option('--out <file>', 'write to a file instead of standard output')
    .action(async (o: CommonOptions & { month: string; out?: string }) => {
      const csv = await withCredits(o, (c) => c.exportCsv(o.month));
      if (o.out) {
        writeFileSync(o.out, csv);
        out(`wrote ${csv.split('\r\n').length - 2} approved credits to ${o.out}`);
      } else io.stdout.write(csv);
    });
}
