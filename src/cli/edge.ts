import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { badRequest } from '../core/errors.js';
import { nginxEdgeConfig } from '../fallback/edge/nginx.js';
import { BANNER_PATH } from '../status/banner.routes.js';
import { configFrom } from './common.js';

interface EdgeNginxCliOptions {
  origin: string;
  mirror: string;
  listen: string;
  out?: string;
  name: string;
  cacheDir: string;
  sdkDir?: string;
  bannerUrl: string[];
  statusUrl?: string;
  serverName: string;
  connectTimeout: string;
  readTimeout: string;
  cacheValid: string;
  cacheKeep: string;
  cacheMaxSize: string;
  sessionCookie?: string;
  retryAfter: string;
  injectBanner: boolean;
  standalone?: boolean;
  config?: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** The SDK folder shipped with Keepwarm; the edge serves its scripts at /sdk/. */
const SHIPPED_SDK_DIR = fileURLToPath(new URL('../../web/sdk/', import.meta.url));

/** `keepwarm edge nginx`: write the failover config for the showroom's edge. No database. */
export function registerEdgeCommands(program: Command, io: { stdout: NodeJS.WritableStream }): void {
  const edge = program.command('edge').description('edge failover configs for the showroom');
  edge
    .command('nginx')
    .description(
      'write an nginx config: showroom origin with cache, stale copies when it fails, the static mirror with the banner, an outage page (503) otherwise',
    )
    .requiredOption('--origin <url>', 'the live showroom, e.g. http://10.0.0.5:3000')
    .requiredOption('--mirror <dir>', 'the published static mirror folder')
    .requiredOption('--listen <port>', 'port (or address:port) nginx listens on')
    .option('--out <file>', 'write the config here instead of standard output')
    .option('--name <name>', 'showroom name in the config (upstream, cache zone)', 'showroom')
    .option('--cache-dir <dir>', 'proxy cache folder', 'data/edge-cache')
    .option(
      '--sdk-dir <dir>',
      'folder with keepwarm-banner.js, keepwarm-events.js and keepwarm-flags.js, served at /sdk/ (default: the shipped one)',
    )
    .option(
      '--banner-url <url>',
      'banner.json URL for the banner script, primary first (repeatable; default: publicUrl from the config + /status/banner.json)',
      collect,
      [],
    )
    .option('--status-url <url>', 'status page linked from the outage page')
    .option('--server-name <name>', 'server_name', '_')
    .option('--connect-timeout <duration>', 'origin connect timeout', '3s')
    .option('--read-timeout <duration>', 'origin read timeout', '15s')
    .option('--cache-valid <duration>', 'how long a cached page is fresh when the origin does not say', '1m')
    .option('--cache-keep <duration>', 'how long an unrequested cached page is kept for stale serving', '7d')
    .option('--cache-max-size <size>', 'cache size limit', '1g')
    .option('--session-cookie <name>', 'requests with this cookie (signed-in buyers) bypass the cache')
    .option('--retry-after <seconds>', 'Retry-After of the outage page', '120')
    .option('--no-inject-banner', 'do not inject the banner script into mirror pages (the build already has it)')
    .option('--standalone', 'write a complete nginx.conf (pid, temp and log files in the cache folder)')
    .option('--config <file>', 'YAML config file (for the default banner URL)')
    .action(async (options: EdgeNginxCliOptions) => {
      let bannerUrls = options.bannerUrl;
      if (bannerUrls.length === 0) {
        const config = configFrom(options.config ? { config: options.config } : {});
        bannerUrls = [new URL(BANNER_PATH, config.publicUrl).href];
      }
      const retryAfter = Number(options.retryAfter);
      if (!/^\d+$/.test(options.retryAfter)) throw badRequest('invalid_edge_options', 'retry-after: must be whole seconds');
      const text = nginxEdgeConfig({
        name: options.name,
        origin: options.origin,
        mirrorDir: resolve(options.mirror),
        cacheDir: resolve(options.cacheDir),
        sdkDir: resolve(options.sdkDir ?? SHIPPED_SDK_DIR),
        listen: options.listen,
        serverName: options.serverName,
        bannerUrls,
        statusUrl: options.statusUrl,
        injectBanner: options.injectBanner,
        connectTimeout: options.connectTimeout,
        readTimeout: options.readTimeout,
        cacheValid: options.cacheValid,
        cacheKeep: options.cacheKeep,
        cacheMaxSize: options.cacheMaxSize,
        sessionCookie: options.sessionCookie,
        retryAfter,
        standalone: options.standalone === true,
      });
      if (!options.out) {
        io.stdout.write(text);
        return;
      }
      const out = resolve(options.out);
      await mkdir(dirname(out), { recursive: true });
      await writeFile(out, text);
      if (options.standalone) await mkdir(resolve(options.cacheDir, 'tmp'), { recursive: true });
      io.stdout.write(
        `wrote ${out}; check it with: nginx -t${options.standalone ? ` -c ${out} -e ${resolve(options.cacheDir, 'error.log')}` : ''}\n`,
      );
    });
}
