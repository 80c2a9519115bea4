import cluster from 'node:cluster';
import { Command, CommanderError, Option } from 'commander';
import type { Actor } from '../app/actor.js';
import { ROLES } from '../app/roles.js';
import { launch, PROCESS_ROLES, type ProcessRole, stopOnSignals } from '../app/runtime.js';
import { registerCatalogApiCommand } from '../catalog/api/catalog-api.command.js';
import { newSecret } from '../core/ids.js';
import { createLogger } from '../core/log.js';
import { registerCreditCommands } from '../credits/credits.command.js';
import { openDatabase } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import { registerDrillCommand } from '../drills/drill.command.js';
import { registerPlaybookCommands } from '../playbook/playbook.command.js';
import { registerPrivacyCommands } from '../privacy/privacy.cli.js';
import { registerReportCommand } from '../reports/report.command.js';
import { registerAgentCommand } from './agent.js';
import { registerCatalogCommands } from './catalog.js';
import { type CommonOptions, configFrom, reportFailure, withCommonOptions, withServices } from './common.js';
import { runDemo } from './demo.js';
import { registerEdgeCommands } from './edge.js';
import { registerFallbackCommands } from './fallback.js';
import { registerImportCommands } from './import.js';

const CLI_ACTOR: Actor = { type: 'system', id: null, name: 'keepwarm CLI', role: 'admin', ip: null };

export function buildProgram(io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }): Command {
  const out = (line: string) => io.stdout.write(`${line}\n`);
  const program = new Command('keepwarm')
    .description('Keepwarm: keep a B2B showroom selling while it is down.')
    .version('0.1.0')
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .exitOverride()
    .showHelpAfterError();

  withCommonOptions(program.command('start'))
    .description('run Keepwarm: web console, APIs, the job worker and the local probes (migrates first)')
    .addOption(
      new Option(
        '--roles <roles>',
        `comma-separated roles to run in this process (${PROCESS_ROLES.join(', ')}; monitor: run the probes of region detection.region)`,
      ).default(PROCESS_ROLES.join(',')),
    )
    .option('--web-processes <n>', 'web processes sharing the port (env KEEPWARM_WEB_PROCESSES, default 1)')
    .action(async (options: CommonOptions & { roles: string; webProcesses?: string }) => {
      const roles = options.roles.split(',').map((r) => r.trim());
      const bad = roles.filter((r) => !(PROCESS_ROLES as readonly string[]).includes(r));
      if (bad.length > 0)
        throw new CommanderError(2, 'keepwarm.roles', `unknown role ${bad.join(', ')}; use ${PROCESS_ROLES.join(', ')}`);
      const config = configFrom(options, {}, { 'web.processes': options.webProcesses });
      const log = createLogger(config.logLevel);
      const running = await launch(config, log, roles as ProcessRole[]);
      stopOnSignals(running, log);
      if (cluster.isPrimary) {
        log.info(
          { url: running.url, roles, webProcesses: config.web.processes, database: running.services.db.dialect },
          'keepwarm started',
        );
      }
      await new Promise(() => {});
    });

  withCommonOptions(program.command('migrate'))
    .description('bring the database schema up to date')
    .action(async (options: CommonOptions) => {
      const config = configFrom(options);
      const db = openDatabase(config.databaseUrl);
      try {
        const { applied } = await migrateToLatest(db);
        out(applied.length === 0 ? 'database is up to date' : `applied: ${applied.join(', ')}`);
      } finally {
        await db.close();
      }
    });

  const user = program.command('user').description('manage users');
  withCommonOptions(user.command('create'))
    .description('create a user (prints a generated password unless --password is given)')
    .requiredOption('--email <email>', 'email address (sign-in name)')
    .addOption(new Option('--role <role>', 'role').choices([...ROLES]).makeOptionMandatory())
    .option('--name <name>', 'display name')
    .option('--password <password>', 'password (at least 10 characters); generated when absent')
    .action(async (options: CommonOptions & { email: string; role: string; name?: string; password?: string }) => {
      const password = options.password ?? newSecret(12);
      const created = await withServices(options, (s) =>
        s.auth.createUser(CLI_ACTOR, { email: options.email, role: options.role, name: options.name, password }),
      );
      out(`created ${created.role} ${created.email} (${created.id})`);
      if (!options.password) out(`password: ${password}`);
    });

  const token = program.command('token').description('manage API tokens');
  withCommonOptions(token.command('create'))
    .description('create an API token; the token is the last line of output and is shown only once')
    .addOption(new Option('--role <role>', 'role the token acts with').choices([...ROLES]).makeOptionMandatory())
    .requiredOption('--name <name>', 'what the token is for')
    .action(async (options: CommonOptions & { role: string; name: string }) => {
      const created = await withServices(options, (s) =>
        s.auth.createToken(CLI_ACTOR, { name: options.name, role: options.role }),
      );
      out(`created ${created.view.role} token "${created.view.name}" (${created.view.id}); it is shown only now:`);
      out(created.token);
    });

  registerAgentCommand(program, io);
  registerImportCommands(program, io);
  registerCatalogCommands(program, io);
  registerFallbackCommands(program, io);
  registerDrillCommand(program, io);
  registerEdgeCommands(program, io);
  registerPlaybookCommands(program, io);
  registerCatalogApiCommand(program, io);
  registerPrivacyCommands(program, io);
  registerCreditCommands(program, io);
  registerReportCommand(program, io);

  withCommonOptions(program.command('demo'))
    .description('run the demo on embedded SQLite under ./data/demo, with seeded users and components')
    .action(async (options: CommonOptions) => {
      await runDemo(options, io);
    });

  return program;
}

export async function main(argv: string[], io = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      if (err.code === 'keepwarm.roles' || err.code === 'keepwarm.port') io.stderr.write(`keepwarm: ${err.message}\n`);
      return 2;
    }
    return reportFailure(err, io.stderr);
  }
}
