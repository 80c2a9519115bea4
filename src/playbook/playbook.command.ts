import { existsSync, readFileSync } from 'node:fs';
import { type Command, CommanderError } from 'commander';
import { parse } from 'yaml';
import { DEFAULT_PLAYBOOK_PATH } from './load.js';
import { formatProblem, type Playbook, parsePlaybook } from './playbook.js';

function summary(p: Playbook): string {
  return `${p.checklist.length} checklist items, ${p.rules.length} rule${p.rules.length === 1 ? '' : 's'}, ${p.flags.length} flags, declare ${p.detection.declare}`;
}

/** `keepwarm playbook check [FILE]`: validate a playbook; every problem with file:line:column; exit 2 on problems. */
export function registerPlaybookCommands(
  program: Command,
  io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream },
): void {
  const playbook = program.command('playbook').description('the outage playbook (checklist, cadence, tiers, automatic actions)');
  playbook
    .command('check')
    .description(`validate a playbook file (default: the playbook setting, KEEPWARM_PLAYBOOK or ${DEFAULT_PLAYBOOK_PATH})`)
    .argument('[file]', 'playbook file')
    .action((file: string | undefined) => {
      let path = file;
      if (path === undefined) {
        // The file Keepwarm would load: read the setting without loading the playbook itself.
        path = configuredPlaybookPath() ?? DEFAULT_PLAYBOOK_PATH;
        if (!existsSync(path) && path === DEFAULT_PLAYBOOK_PATH) {
          io.stdout.write(`${DEFAULT_PLAYBOOK_PATH} not found: Keepwarm uses the built-in playbook (valid).\n`);
          return;
        }
      }
      if (!existsSync(path)) {
        io.stderr.write(`${path}:1:1: playbook file not found\n`);
        throw new CommanderError(2, 'keepwarm.playbook', 'playbook file not found');
      }
      const result = parsePlaybook(readFileSync(path, 'utf8'), path);
      if (!result.ok) {
        for (const problem of result.problems) io.stderr.write(`${formatProblem(problem)}\n`);
        io.stderr.write(`${result.problems.length} problem${result.problems.length > 1 ? 's' : ''} in ${path}\n`);
        throw new CommanderError(2, 'keepwarm.playbook', 'invalid playbook');
      }
      io.stdout.write(`${path}: valid (${summary(result.playbook)})\n`);
    });
}

/** The `playbook` setting (KEEPWARM_PLAYBOOK, or the config file's `playbook` key), without loading it. */
function configuredPlaybookPath(): string | undefined {
  if (process.env.KEEPWARM_PLAYBOOK) return process.env.KEEPWARM_PLAYBOOK;
  const configFile = process.env.KEEPWARM_CONFIG ?? 'keepwarm.yaml';
  if (!existsSync(configFile)) return undefined;
  try {
    const value = parse(readFileSync(configFile, 'utf8')) as { playbook?: unknown } | null;
    return typeof value?.playbook === 'string' ? value.playbook : undefined;
  } catch {
    return undefined;
  }
}
