import { type Command, CommanderError, Option } from 'commander';
import { stopOnSignals } from '../app/runtime.js';
import { createLogger } from '../core/log.js';
import { startAgent } from '../detection/probes/agent.js';
import { parseResolveOverrides } from '../detection/probes/resolve.js';

interface AgentCliOptions {
  server: string;
  token: string;
  region: string;
  reloadSeconds: string;
  resolve: string[];
  dnsServer: string[];
  concurrency: string;
  logLevel: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/**
 * `keepwarm agent`: a probe vantage point in another region. It needs no database, only the
 * server's URL and an agent token (`keepwarm token create --role agent --name eu-west`).
 */
export function registerAgentCommand(program: Command, io: { stderr: NodeJS.WritableStream }): void {
  program
    .command('agent')
    .description('run the monitors assigned to a region and report their results to a Keepwarm server')
    .requiredOption('--server <url>', 'Keepwarm server URL, e.g. https://keepwarm.example.com')
    .addOption(
      new Option('--token <token>', 'API token with the agent role (keepwarm token create --role agent --name REGION)')
        .env('KEEPWARM_AGENT_TOKEN')
        .makeOptionMandatory(),
    )
    .requiredOption('--region <name>', 'region name of this vantage point, e.g. eu-west')
    .option('--reload-seconds <n>', 'how often to fetch the assigned monitors', '30')
    .option(
      '--resolve <host:port:address>',
      'connect to ADDRESS for HOST:PORT in HTTP and TLS checks, like curl --resolve (repeatable; a debugging aid for split-horizon views)',
      collect,
      [],
    )
    .option(
      '--dns-server <address>',
      "name server for DNS checks, e.g. 10.0.0.2:53 (repeatable; default: the system's)",
      collect,
      [],
    )
    .option('--concurrency <n>', 'checks running at once, at most', '256')
    .option('--log-level <level>', 'log level (JSON logs on stdout)', 'info')
    .action(async (options: AgentCliOptions) => {
      const usage = (message: string) => {
        io.stderr.write(`keepwarm agent: ${message}\n`);
        return new CommanderError(2, 'keepwarm.usage', message);
      };
      let server: URL;
      try {
        server = new URL(options.server);
      } catch {
        throw usage(`--server ${JSON.stringify(options.server)} is not a URL`);
      }
      if (server.protocol !== 'http:' && server.protocol !== 'https:') throw usage('--server must be an http:// or https:// URL');
      const reloadSeconds = Number(options.reloadSeconds);
      if (!Number.isFinite(reloadSeconds) || reloadSeconds < 1) throw usage('--reload-seconds must be a number of seconds >= 1');
      const concurrency = Number(options.concurrency);
      if (!Number.isInteger(concurrency) || concurrency < 1) throw usage('--concurrency must be a whole number >= 1');
      const region = options.region.trim();
      if (region === '' || region.length > 100) throw usage('--region must be 1 to 100 characters');
      let resolve: Map<string, string>;
      try {
        resolve = parseResolveOverrides(options.resolve);
      } catch (err) {
        throw usage((err as Error).message);
      }
      const log = createLogger(options.logLevel).child({ role: 'agent' });
      const agent = startAgent({
        server: server.href,
        token: options.token,
        region,
        reloadMs: reloadSeconds * 1000,
        log,
        resolve,
        dnsServers: options.dnsServer,
        concurrency,
      });
      stopOnSignals(agent, log);
      await new Promise(() => {});
    });
}
