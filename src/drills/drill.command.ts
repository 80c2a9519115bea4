/**
 * `keepwarm drill`: starts a drill on the running Keepwarm (the demo, or a server with
 * drill.staging), follows it and prints the scorecard. It talks to Keepwarm over HTTP, so it works
 * from any terminal: the demo leaves its address and a drill token in its data folder.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Command, CommanderError, Option } from 'commander';
import { request } from 'undici';
import { type CommonOptions, configFrom, withCommonOptions } from '../cli/common.js';
import { AppError } from '../core/errors.js';
import type { DrillView } from './drills.service.js';
import { formatScorecard, type Milestone, SCENARIOS } from './scorecard.js';

const MILESTONE_DONE: Record<Milestone, string> = {
  detect: 'outage detected',
  declare: 'incident declared',
  acknowledge: 'first public acknowledgement',
  fallback: 'fallback live (mirror up, banner pointing at it)',
  tier_a_task: 'first Tier A call task',
};

/** Failed polls in a row before `keepwarm drill` stops following the drill (about a minute when Keepwarm is down). */
const POLL_PATIENCE = 30;

/** Where the demo writes how to reach it (`{url, token}`, readable by its owner only). */
export const DRILL_FILE = 'drill.json';

async function demoCredentials(dirs: string[]): Promise<{ url: string; token: string } | null> {
  for (const dir of dirs) {
    try {
      const parsed = JSON.parse(await readFile(join(dir, DRILL_FILE), 'utf8')) as { url?: unknown; token?: unknown };
      if (typeof parsed.url === 'string' && typeof parsed.token === 'string') return { url: parsed.url, token: parsed.token };
    } catch {
      // not there
    }
  }
  return null;
}

async function call(
  method: 'GET' | 'POST',
  url: string,
  token: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  let res: Awaited<ReturnType<typeof request>>;
  try {
    res = await request(url, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'application/json',
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
      headersTimeout: 15_000,
      bodyTimeout: 15_000,
    });
  } catch (err) {
    throw new AppError(
      503,
      'keepwarm_unreachable',
      `Keepwarm does not answer at ${new URL(url).origin} (${err instanceof Error ? err.message : String(err)}): start it first (npm start).`,
    );
  }
  const text = await res.body.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = { message: text.slice(0, 200) };
  }
  return { status: res.statusCode, json };
}

export function registerDrillCommand(
  program: Command,
  io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream },
): void {
  const out = (line: string) => io.stdout.write(`${line}\n`);
  withCommonOptions(program.command('drill'))
    .description(
      'run a drill against the demo (or drill.staging): break an entry point, let the playbook run, restore, print the scorecard',
    )
    .addOption(new Option('--scenario <scenario>', 'the entry point to break').choices([...SCENARIOS]).default('api'))
    .option('--hold <seconds>', 'how long the entry point stays broken (10–3600; default drill.holdSeconds, 90)')
    .option('--server <url>', "Keepwarm's address (default: the demo's, else publicUrl)")
    .option(
      '--token <token>',
      'an API token allowed to declare incidents (env KEEPWARM_TOKEN; the demo leaves one in its data folder)',
    )
    .option('--json', 'print the drill with its scorecard as JSON')
    .action(
      async (
        o: CommonOptions & {
          scenario: (typeof SCENARIOS)[number];
          hold?: string;
          server?: string;
          token?: string;
          json?: boolean;
        },
      ) => {
        const config = configFrom(o);
        const demo = await demoCredentials([config.dataDir, join(process.cwd(), 'data', 'demo')]);
        const server = (o.server ?? (o.token || process.env.KEEPWARM_TOKEN ? undefined : demo?.url) ?? config.publicUrl).replace(
          /\/$/,
          '',
        );
        const token = o.token ?? process.env.KEEPWARM_TOKEN ?? demo?.token;
        if (!token)
          throw new CommanderError(
            2,
            'keepwarm.drill',
            'drill: no API token: pass --token (or KEEPWARM_TOKEN), or start the demo (npm start) first',
          );
        const hold = o.hold === undefined ? config.drill.holdSeconds : Number(o.hold);
        if (!Number.isInteger(hold) || hold < 10 || hold > 3600)
          throw new CommanderError(2, 'keepwarm.drill', 'drill: --hold must be a whole number of seconds from 10 to 3600');
        const started = await call('POST', `${server}/api/v1/drills`, token, { scenario: o.scenario, hold_seconds: hold });
        if (started.status !== 201) {
          const message = (started.json as { message?: string })?.message ?? `HTTP ${started.status}`;
          throw new AppError(
            started.status >= 400 && started.status < 500 ? 422 : 502,
            'drill_refused',
            `drill refused: ${message}`,
          );
        }
        let drill = started.json as DrillView;
        if (!o.json)
          out(
            `drill ${drill.id}: breaking the ${drill.scenario} entry point of ${drill.target} for ${drill.hold_seconds} s; the playbook takes it from here…`,
          );
        const seen = new Set<string>();
        const t0 = Date.now();
        // The drill runs in Keepwarm whatever happens to this terminal's connection: a poll that
        // fails (a reset connection, a busy server) is tried again, for up to POLL_PATIENCE polls in a row.
        let failedPolls = 0;
        while (drill.state === 'running' || drill.state === 'restoring') {
          await new Promise((resolve) => setTimeout(resolve, 1000));
          let polled: Awaited<ReturnType<typeof call>>;
          try {
            polled = await call('GET', `${server}/api/v1/drills/${encodeURIComponent(drill.id)}`, token);
            failedPolls = 0;
          } catch (err) {
            if (++failedPolls >= POLL_PATIENCE) throw err;
            continue;
          }
          if (polled.status !== 200) continue;
          drill = polled.json as DrillView;
          if (o.json) continue;
          const broken = drill.broken_at ? Date.parse(drill.broken_at) : t0;
          for (const [key, at] of Object.entries(drill.progress) as Array<[Milestone, string | null]>) {
            if (at === null || seen.has(key)) continue;
            seen.add(key);
            out(
              `  +${((Date.parse(at) - broken) / 1000).toFixed(1).padStart(6)} s  ${MILESTONE_DONE[key]}${key === 'declare' && drill.incident_id ? ` (incident ${drill.incident_id}, a drill: messages go to the sinks)` : ''}`,
            );
          }
          if (drill.restored_at && !seen.has('restored')) {
            seen.add('restored');
            out(
              `  +${((Date.parse(drill.restored_at) - (drill.broken_at ? Date.parse(drill.broken_at) : t0)) / 1000).toFixed(1).padStart(6)} s  entry point restored; waiting for the checks to pass, then closing the drill incident`,
            );
          }
        }
        if (o.json) {
          out(JSON.stringify(drill, null, 2));
        } else if (drill.scorecard) {
          out('');
          for (const line of formatScorecard(drill.scorecard, {
            id: drill.id,
            incidentId: drill.incident_id,
            state: drill.state,
            error: drill.error,
          }))
            out(line);
          out('');
          out(`The scorecard is kept: ${server}/console/drills/${drill.id}`);
        }
        if (drill.state === 'failed')
          throw new AppError(500, 'drill_failed', `drill failed: ${drill.error ?? 'see the console'}`);
      },
    );
}
