import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type Command, Option } from 'commander';
import { createServices } from '../app/services.js';
import { systemClock } from '../core/clock.js';
import { AppError } from '../core/errors.js';
import { createLogger } from '../core/log.js';
import type { ImportOptions, ImportProgress, ImportSummary } from '../crm/import/import.service.js';
import { requireFormat } from '../crm/import/import.service.js';
import type { ImportFormat } from '../crm/import/sources.js';
import type { LeadService } from '../crm/leads.service.js';
import { openDatabase } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import { type CommonOptions, configFrom, withCommonOptions } from './common.js';

interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/**
 * A progress line for a TTY: phase, percentage, rows and rows/s, redrawn in place at most
 * every 100 ms. Reading is measured in bytes of the file, writing in rows.
 */
export function progressReporter(
  stream: NodeJS.WritableStream & { isTTY?: boolean },
  totalBytes: number,
  bytesRead: () => number,
): { update(p: ImportProgress): void; done(): void } {
  const started = performance.now();
  let last = 0;
  let drawn = false;
  return {
    update(p) {
      if (!stream.isTTY) return;
      const t = performance.now();
      if (t - last < 100 && !(p.phase === 'write' && p.rows === p.total)) return;
      last = t;
      const fraction = p.phase === 'read' ? (totalBytes > 0 ? bytesRead() / totalBytes : 1) : p.total ? p.rows / p.total : 1;
      const width = 24;
      const filled = Math.round(Math.min(1, fraction) * width);
      const rate = Math.round(p.rows / Math.max((t - started) / 1000, 0.001));
      stream.write(
        `\r${p.phase === 'read' ? 'reading' : 'writing'} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.floor(
          fraction * 100,
        )
          .toString()
          .padStart(3)}%  ${p.rows} rows  ${rate} rows/s   `,
      );
      drawn = true;
    },
    done() {
      if (drawn) stream.write('\r\x1b[K');
    },
  };
}

/** The import through the same path as the API and the benchmark: a file streamed into LeadService. */
export async function importLeadsFile(
  leads: LeadService,
  file: string,
  format: ImportFormat,
  options: ImportOptions & { progress?: NodeJS.WritableStream & { isTTY?: boolean } } = {},
): Promise<ImportSummary> {
  const size = statSync(file).size;
  const stream = createReadStream(file, { highWaterMark: 256 * 1024 });
  let bytes = 0;
  stream.on('data', (chunk) => {
    bytes += chunk.length;
  });
  const reporter = options.progress ? progressReporter(options.progress, size, () => bytes) : undefined;
  try {
    return await leads.import(format, stream, {
      ...options,
      onProgress: (p) => {
        reporter?.update(p);
        options.onProgress?.(p);
      },
    });
  } finally {
    reporter?.done();
    stream.destroy();
  }
}

export function formatSummary(s: ImportSummary, seconds: number): string {
  const rate = Math.round(s.rows / Math.max(seconds, 0.001));
  const verb = s.dry_run
    ? 'dry run (nothing written)'
    : s.applied
      ? 'imported'
      : s.errors > 0
        ? 'NOT imported'
        : 'nothing to change';
  return `${verb}: ${s.rows} rows, ${s.created} created, ${s.updated} updated, ${s.unchanged} unchanged, ${s.errors} with errors in ${seconds.toFixed(2)} s (${rate} rows/s)`;
}

export function registerImportCommands(program: Command, io: Io): void {
  const out = (line: string) => io.stdout.write(`${line}\n`);
  const withLeads = async <T>(options: CommonOptions, fn: (leads: LeadService) => Promise<T>): Promise<T> => {
    const config = configFrom(options);
    const db = openDatabase(config.databaseUrl);
    try {
      await migrateToLatest(db);
      return await fn(createServices({ config, db, clock: systemClock, log: createLogger(options.logLevel ?? 'warn') }).leads);
    } finally {
      await db.close();
    }
  };

  const imp = program.command('import').description('import data');
  withCommonOptions(imp.command('leads'))
    .description(
      'import leads from a HubSpot or Salesforce CSV export, a Keepwarm CSV, a JSON array or JSON lines (all or nothing unless --skip-invalid)',
    )
    .argument('<file>', 'the file to import')
    .addOption(new Option('--format <format>', 'file format (default: from the extension, else csv)').choices(['csv', 'json']))
    .option('--dry-run', 'validate and preview; write nothing')
    .option('--skip-invalid', 'import the valid rows even when some have errors')
    .option('--preview <n>', 'rows to preview with --dry-run', '5')
    .action(
      async (
        file: string,
        options: CommonOptions & { format?: string; dryRun?: boolean; skipInvalid?: boolean; preview: string },
      ) => {
        const format = requireFormat(options.format, file);
        const started = performance.now();
        const summary = await withLeads(options, (leads) =>
          importLeadsFile(leads, file, format, {
            dryRun: options.dryRun === true,
            skipInvalid: options.skipInvalid === true,
            previewRows: Number(options.preview) || 0,
            progress: io.stderr,
          }),
        );
        const seconds = (performance.now() - started) / 1000;
        if (options.dryRun) {
          for (const c of summary.columns) out(`  column ${JSON.stringify(c.column)} -> ${c.field}`);
          for (const p of summary.preview) out(`  row ${p.row} ${p.action}: ${JSON.stringify(p.lead)}`);
        }
        for (const e of summary.error_list) out(`  row ${e.row}, column ${JSON.stringify(e.column)}: ${e.message}`);
        if (summary.errors > summary.error_list.length) out(`  … and ${summary.errors - summary.error_list.length} more errors`);
        out(formatSummary(summary, seconds));
        if (summary.errors > 0 && !options.skipInvalid && !options.dryRun)
          throw new AppError(422, 'import_failed', 'rows have errors: nothing was imported (fix them, or use --skip-invalid)');
      },
    );

  const exp = program.command('export').description('export data');
  withCommonOptions(exp.command('leads'))
    .description('export every lead as CSV with the outage fields (formula-looking cells defused)')
    .option('--out <file>', 'write to this file instead of standard output')
    .action(async (options: CommonOptions & { out?: string }) => {
      await withLeads(options, async (leads) => {
        const target = options.out ? createWriteStream(options.out) : io.stdout;
        await pipeline(Readable.from(leads.exportCsv()), target, { end: options.out !== undefined });
      });
    });
}
