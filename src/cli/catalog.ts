import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { type Command, Option } from 'commander';
import { createServices } from '../app/services.js';
import { CATALOG_FORMATS, type CatalogFormat } from '../catalog/import/parse.js';
import { type CatalogImportReport, type CatalogService, writeSnapshotFile } from '../catalog/snapshots.service.js';
import { systemClock } from '../core/clock.js';
import { AppError } from '../core/errors.js';
import { createLogger } from '../core/log.js';
import { openDatabase } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import { type CommonOptions, configFrom, withCommonOptions } from './common.js';

interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** The report and the diff as lines for a terminal. */
export function formatCatalogReport(r: CatalogImportReport): string[] {
  const lines: string[] = [];
  for (const i of r.issues)
    lines.push(
      `  ${i.level} ${i.file}${i.row !== null ? `, row ${i.row}` : ''}${i.field ? `, field ${i.field}` : ''}: ${i.message}`,
    );
  const verb = r.dry_run
    ? 'dry run (nothing written)'
    : r.applied
      ? `imported as snapshot v${r.snapshot?.version}`
      : r.errors > 0 && r.valid < r.read
        ? 'NOT imported'
        : 'unchanged';
  lines.push(
    `${verb}: ${r.format}, ${r.read} products read, ${r.valid} valid, ${r.refused} refused, ${r.errors} errors, ${r.warnings} warnings`,
  );
  const d = r.diff;
  lines.push(
    `diff against ${d.from ? `v${d.from.version}` : 'nothing'}: ${d.added.length} added, ${d.changed.length} changed, ${d.removed.length} removed, ${d.unchanged} unchanged`,
  );
  for (const sku of d.added) lines.push(`  + ${sku}`);
  for (const c of d.changed) lines.push(`  ~ ${c.sku} (${c.fields.join(', ')})`);
  for (const sku of d.removed) lines.push(`  - ${sku}`);
  return lines;
}

export function registerCatalogCommands(program: Command, io: Io): void {
  const out = (line: string) => io.stdout.write(`${line}\n`);
  const withCatalog = async <T>(options: CommonOptions, fn: (catalog: CatalogService) => Promise<T>): Promise<T> => {
    const config = configFrom(options);
    const db = openDatabase(config.databaseUrl);
    try {
      await migrateToLatest(db);
      return await fn(createServices({ config, db, clock: systemClock, log: createLogger(options.logLevel ?? 'warn') }).catalog);
    } finally {
      await db.close();
    }
  };
  const imp = program.commands.find((c) => c.name() === 'import') ?? program.command('import').description('import data');
  withCommonOptions(imp.command('catalog'))
    .description(
      'import a catalog file as a new snapshot and print the validation report and the diff (all or nothing unless --skip-invalid)',
    )
    .argument('<file>', 'the file (format detected from its content)')
    .addOption(new Option('--format <format>', 'the file format').choices([...CATALOG_FORMATS]))
    .option('--locale <locale>', "the catalog's primary locale (default: the most common in the file)")
    .option('--currency <code>', 'currency for prices written without one, and the preferred one')
    .option('--mapping <json>', 'generic CSV: {"column": "field"}')
    .option('--dry-run', 'validate and show the diff; write nothing')
    .option('--skip-invalid', 'import the valid products even when some have errors')
    .action(
      async (
        file: string,
        o: CommonOptions & {
          format?: CatalogFormat;
          locale?: string;
          currency?: string;
          mapping?: string;
          dryRun?: boolean;
          skipInvalid?: boolean;
        },
      ) => {
        let mapping: Record<string, string> | null = null;
        if (o.mapping) {
          try {
            mapping = JSON.parse(o.mapping) as Record<string, string>;
          } catch {
            throw new AppError(400, 'validation_failed', '--mapping: expected a JSON object {"column": "field"}');
          }
        }
        const text = readFileSync(file, 'utf8');
        const report = await withCatalog(o, (catalog) =>
          catalog.import(text, {
            file: basename(file),
            format: o.format ?? null,
            locale: o.locale ?? null,
            currency: o.currency ?? null,
            mapping,
            dryRun: o.dryRun === true,
            skipInvalid: o.skipInvalid === true,
            actor: 'cli',
          }),
        );
        for (const line of formatCatalogReport(report)) out(line);
        if (report.errors > 0 && !o.skipInvalid && !o.dryRun)
          throw new AppError(
            422,
            'import_failed',
            'products have errors: nothing was imported (fix them, or use --skip-invalid)',
          );
      },
    );
  const cat = program.commands.find((c) => c.name() === 'catalog') ?? program.command('catalog').description('catalog snapshots');
  withCommonOptions(cat.command('export-snapshot'))
    .description('write a catalog snapshot (the latest unless --id) as a JSON snapshot file')
    .requiredOption('--out <file>', 'the file to write')
    .option('--id <id>', 'the snapshot id')
    .action(async (o: CommonOptions & { out: string; id?: string }) => {
      const snap = await withCatalog(o, (catalog) => catalog.snapshotFile(o.id));
      await writeSnapshotFile(snap, o.out);
      out(`wrote snapshot ${snap.id} (${snap.products.length} products) to ${o.out}`);
    });
}
