import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Actor } from '../app/actor.js';
import { createServices } from '../app/services.js';
import { type CommonOptions, configFrom, withCommonOptions } from '../cli/common.js';
import { systemClock } from '../core/clock.js';
import { createLogger } from '../core/log.js';
import { openDatabase } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import type { PersonalTable } from './privacy.repo.js';
import type { PrivacyService } from './privacy.service.js';

interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

const CLI_ACTOR: Actor = { type: 'system', id: null, name: 'keepwarm CLI', role: 'admin', ip: null };

/** `keepwarm privacy export|erase|purge`: the same service as the API and the console. */
export function registerPrivacyCommands(program: Command, io: Io): void {
  const out = (line: string) => io.stdout.write(`${line}\n`);
  const withPrivacy = async <T>(options: CommonOptions, fn: (privacy: PrivacyService) => Promise<T>): Promise<T> => {
    const config = configFrom(options);
    const db = openDatabase(config.databaseUrl);
    try {
      await migrateToLatest(db);
      return await fn(createServices({ config, db, clock: systemClock, log: createLogger(options.logLevel ?? 'warn') }).privacy);
    } finally {
      await db.close();
    }
  };

  const privacy = program.command('privacy').description("export or erase a person's data; run the retention purge");

  withCommonOptions(privacy.command('export'))
    .description('write everything held about a person as one JSON document (audited without the address)')
    .argument('<email-or-phone>', 'the person: an email address or a phone number in international form')
    .option('--out <file>', 'write to this file instead of standard output')
    .action(async (subject: string, options: CommonOptions & { out?: string }) => {
      const doc = await withPrivacy(options, (p) => p.exportPerson(CLI_ACTOR, subject));
      const text = `${JSON.stringify(doc, null, 2)}\n`;
      if (options.out) {
        writeFileSync(options.out, text, { mode: 0o600 });
        const rows = Object.values(doc.counts).reduce((a, b) => a + b, 0);
        io.stderr.write(`wrote ${rows} rows from ${Object.keys(doc.tables).length} tables to ${options.out}\n`);
      } else io.stdout.write(text);
    });

  withCommonOptions(privacy.command('erase'))
    .description('erase a person from every table in one transaction (audited with counts and a hash, never the address)')
    .argument('<email-or-phone>', 'the person: an email address or a phone number in international form')
    .option(
      '--no-suppress',
      'also remove the address from the suppression list (by default it stays there, so nothing is sent to it again)',
    )
    .option('--dry-run', 'show what would be erased; change nothing')
    .action(async (subject: string, options: CommonOptions & { suppress: boolean; dryRun?: boolean }) => {
      if (options.dryRun) {
        const preview = await withPrivacy(options, (p) => p.preview(subject));
        out(`dry run (nothing changed): ${preview.subject.kind} with ${preview.addresses} address(es)`);
        for (const [table, rows] of Object.entries(preview.counts)) out(`  ${table}: ${rows}`);
        return;
      }
      const res = await withPrivacy(options, (p) => p.erase(CLI_ACTOR, subject, { suppress: options.suppress }));
      out(`erased ${res.kind} (${res.addresses} address${res.addresses === 1 ? '' : 'es'}); audit reference ${res.subjectHash}`);
      for (const [table, c] of Object.entries(res.tables) as Array<[PersonalTable, { action: string; rows: number }]>) {
        if (c.rows > 0) out(`  ${table}: ${c.rows} ${c.action}`);
      }
      if (res.suppressed > 0) out(`  suppressions: ${res.suppressed} added (nothing will be sent to them again)`);
      if (res.staffAccounts > 0) out('  note: a staff account uses this address and was not touched');
    });

  withCommonOptions(privacy.command('purge'))
    .description('remove what is past retention now (what the hourly job does)')
    .action(async (options: CommonOptions) => {
      const res = await withPrivacy(options, (p) => p.purge({ actor: CLI_ACTOR }));
      out(
        `purged in ${res.durationMs} ms: ${res.messagesRedacted} message bodies, ${res.beaconSignalsDeleted} beacon signals, ${res.intentEventsDeleted} intent events, ${res.conversationsDeleted} conversations, ${res.inboundMessagesDeleted} inbound texts`,
      );
    });
}
