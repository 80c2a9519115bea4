import { Command, CommanderError } from 'commander';
import { registerCatalogApiCommand } from './catalog-api.command.js';

/**
 * Entry for `keepwarm catalog-api` that loads only the catalog API (bin/keepwarm takes this path
 * for that command), so the process answers within a second even on a small host.
 */
export async function main(argv: string[], io = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const program = new Command('keepwarm')
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .exitOverride();
  registerCatalogApiCommand(program, io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help') return 0;
      if (err.code === 'keepwarm.port') io.stderr.write(`keepwarm: ${err.message}\n`);
      return 2;
    }
    io.stderr.write(`keepwarm: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
