import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { httpRequest } from './http.js';
import { freePort, LOOPBACK } from './ports.js';
import { type Daemon, requireExecutable, spawnDaemon, waitUntil } from './process.js';

export interface NginxOptions {
  /** An empty folder nginx owns: config, pid, logs and temp files go here. */
  prefix: string;
  /** Static files to serve. Made world-readable: nginx workers may run as nobody. */
  docRoot: string;
  /** Extra directives inside http { } and server { }, for later benchmarks (proxying, gzip...). */
  httpExtra?: string;
  serverExtra?: string;
}

export interface Nginx {
  url: string;
  port: number;
  daemon: Daemon;
  stop(): Promise<void>;
}

export function nginxConfig(o: {
  prefix: string;
  docRoot: string;
  port: number;
  httpExtra?: string;
  serverExtra?: string;
}): string {
  const p = (name: string) => join(o.prefix, name);
  return `daemon off;
worker_processes auto;
pid ${p('nginx.pid')};
error_log ${p('error.log')} warn;

events {
  worker_connections 4096;
}

http {
  access_log off;
  types {
    application/json json;
    text/html html;
  }
  default_type application/octet-stream;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_timeout 65;
  keepalive_requests 100000;
  client_body_temp_path ${p('tmp/body')};
  proxy_temp_path ${p('tmp/proxy')};
  fastcgi_temp_path ${p('tmp/fastcgi')};
  uwsgi_temp_path ${p('tmp/uwsgi')};
  scgi_temp_path ${p('tmp/scgi')};
${o.httpExtra ?? ''}
  server {
    listen ${LOOPBACK}:${o.port};
    server_name localhost;
    root ${o.docRoot};
${o.serverExtra ?? ''}
  }
}
`;
}

/** Start nginx in the foreground on a free loopback port, with a config of our own. */
export async function startNginx(options: NginxOptions): Promise<Nginx> {
  const nginx = requireExecutable('nginx', 'NGINX_BIN', 'apt-get install nginx-light');
  const port = await freePort();
  await mkdir(join(options.prefix, 'tmp'), { recursive: true });
  await chmod(options.docRoot, 0o755);
  const conf = join(options.prefix, 'nginx.conf');
  await writeFile(conf, nginxConfig({ ...options, port }));
  const errorLog = join(options.prefix, 'error.log');
  const daemon = spawnDaemon('nginx', nginx, ['-p', options.prefix, '-c', conf, '-e', errorLog], {
    logFile: join(options.prefix, 'stdout.log'),
  });
  const url = `http://${LOOPBACK}:${port}`;
  try {
    await waitUntil(
      `nginx on ${url}`,
      async () => {
        await httpRequest(`${url}/`, { timeoutMs: 1000 });
        return true;
      },
      { timeoutMs: 10_000, daemon },
    );
  } catch (err) {
    await daemon.stop();
    throw err;
  }
  return { url, port, daemon, stop: () => daemon.stop() };
}
