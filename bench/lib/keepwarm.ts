import { join } from 'node:path';
import { httpJson, httpRequest } from './http.js';
import { freePort, LOOPBACK } from './ports.js';
import { cleanEnv, type Daemon, REPO_ROOT, runCommand, spawnDaemon, waitUntil } from './process.js';
import { BenchUnavailable } from './types.js';

const CLI = join(REPO_ROOT, 'bin', 'keepwarm');

export interface KeepwarmServer {
  url: string;
  port: number;
  /** An admin API token created before start. */
  token: string;
  daemon: Daemon;
  /** Admin API call (Bearer token), JSON in and out. */
  api<T>(method: string, path: string, payload?: unknown): Promise<T>;
  stop(): Promise<void>;
}

export interface KeepwarmOptions {
  /** An empty folder: the SQLite database and Keepwarm's log go here. */
  dataDir: string;
  logLevel?: string;
  /** e.g. ['--roles', 'web'] */
  extraArgs?: readonly string[];
  /** Added to the child's environment (KEEPWARM_* from ours are dropped, so runs are reproducible). */
  env?: Record<string, string>;
  /**
   * Node flags for the server process, e.g. ['--cpu-prof', '--cpu-prof-dir=DIR'] to profile it.
   * Default: BENCH_KEEPWARM_NODE_ARGS split on spaces.
   */
  nodeArgs?: readonly string[];
}

/**
 * Keepwarm as a separate process, on embedded SQLite and a free loopback port, like production
 * runs it (`keepwarm start`). Creating the admin token first also migrates the database.
 */
export async function startKeepwarm(options: KeepwarmOptions): Promise<KeepwarmServer> {
  const env = { ...cleanEnv(['KEEPWARM_']), ...options.env };
  const common = ['--data-dir', options.dataDir];
  const created = await runCommand(process.execPath, [CLI, 'token', 'create', '--role', 'admin', '--name', 'bench', ...common], {
    env,
    timeoutMs: 60_000,
  });
  const token = created.stdout.trim().split('\n').at(-1)?.trim() ?? '';
  if (created.code !== 0 || token === '') {
    throw new BenchUnavailable(
      `keepwarm token create failed (${created.code ?? created.signal}): ${created.stderr.trim().split('\n').slice(-3).join(' | ')}`,
    );
  }

  const port = await freePort();
  const nodeArgs = options.nodeArgs ?? (process.env.BENCH_KEEPWARM_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const args = [
    ...nodeArgs,
    CLI,
    'start',
    '--port',
    String(port),
    ...common,
    '--log-level',
    options.logLevel ?? 'warn',
    ...(options.extraArgs ?? []),
  ];
  const daemon = spawnDaemon('keepwarm', process.execPath, args, {
    env: { ...env, KEEPWARM_HOST: LOOPBACK },
    logFile: join(options.dataDir, 'keepwarm.log'),
  });
  const url = `http://${LOOPBACK}:${port}`;
  try {
    await waitUntil(
      `keepwarm on ${url}/readyz`,
      async () => (await httpRequest(`${url}/readyz`, { timeoutMs: 1000 })).status === 200,
      {
        timeoutMs: 30_000,
        intervalMs: 200,
        daemon,
      },
    );
  } catch (err) {
    await daemon.stop();
    throw err;
  }
  return {
    url,
    port,
    token,
    daemon,
    api: <T>(method: string, path: string, payload?: unknown) =>
      httpJson<T>(`${url}${path}`, method, payload, { authorization: `Bearer ${token}` }),
    stop: () => daemon.stop(10_000),
  };
}
