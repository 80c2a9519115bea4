import { type Command, CommanderError } from 'commander';

/** `keepwarm catalog-api --snapshot FILE --port N`: the read-only catalog API alone, no database. */
export function registerCatalogApiCommand(program: Command, io: { stdout: NodeJS.WritableStream }): void {
  program
    .command('catalog-api')
    .description('serve the read-only catalog API (/catalog/v1/products) from a snapshot file, without a database')
    .requiredOption('--snapshot <file>', 'catalog snapshot JSON file (version 1)')
    .option('--port <n>', 'port to listen on (0 picks a free one)', '8090')
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .action(async (options: { snapshot: string; port: string; host: string }) => {
      const port = Number(options.port);
      if (!Number.isInteger(port) || port < 0 || port > 65_535)
        throw new CommanderError(2, 'keepwarm.port', `--port must be an integer 0-65535 (got ${options.port})`);
      // Imported here so the other commands never load it, and this one loads nothing else.
      const { startCatalogApi } = await import('./standalone.js');
      const api = await startCatalogApi({ snapshot: options.snapshot, port, host: options.host });
      io.stdout.write(`catalog API listening on ${api.url}/catalog/v1/products\n`);
      process.on('SIGHUP', () => {
        api.reload().then(
          () => io.stdout.write('catalog snapshot reloaded\n'),
          (err: unknown) => io.stdout.write(`reload failed, still serving the previous snapshot: ${String(err)}\n`),
        );
      });
      await new Promise<void>((resolve) => {
        const stop = () => {
          api.close().then(resolve, resolve);
        };
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      });
    });
}
