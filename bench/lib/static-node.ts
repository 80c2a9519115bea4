import { join } from 'node:path';
import { httpRequest } from './http.js';
import { freePort, LOOPBACK } from './ports.js';
import { type Daemon, REPO_ROOT, spawnDaemon, waitUntil } from './process.js';

export interface StaticNode {
  url: string;
  port: number;
  daemon: Daemon;
  stop(): Promise<void>;
}

/** A bare node:http server of the same bytes: the floor any Node.js server stands on. */
export async function startStaticNode(options: { file: string; processes: number; logFile: string }): Promise<StaticNode> {
  const port = await freePort();
  const daemon = spawnDaemon(
    'static-node',
    process.execPath,
    [join(REPO_ROOT, 'bench', 'servers', 'static-node.mjs'), String(port), options.file, String(options.processes)],
    { logFile: options.logFile },
  );
  const url = `http://${LOOPBACK}:${port}`;
  await waitUntil(`bare node on ${url}`, async () => (await httpRequest(`${url}/`, { timeoutMs: 1000 })).status === 200, {
    timeoutMs: 15_000,
    intervalMs: 100,
    daemon,
  });
  return { url, port, daemon, stop: () => daemon.stop(5_000) };
}
