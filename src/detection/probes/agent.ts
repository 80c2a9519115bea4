import type { Logger } from 'pino';
import { Agent, type Dispatcher } from 'undici';
import { z } from 'zod';
import {
  dnsCheckSchema,
  httpCheckSchema,
  MIN_INTERVAL_MS,
  type MonitorSpec,
  type ProbeResult,
  tlsCheckSchema,
} from '../monitor.js';
import { RejectedBatchError, ResultReporter } from './reporter.js';
import type { ResolveOverrides } from './resolve.js';
import { type CheckRunner, ProbeRunner } from './runner.js';
import { ProbeScheduler } from './scheduler.js';

export interface AgentOptions {
  /** The Keepwarm server's base URL, e.g. https://keepwarm.example.com */
  server: string;
  /** An API token with the agent role. */
  token: string;
  region: string;
  /** How often to fetch the assignments (ms). */
  reloadMs: number;
  log: Logger;
  resolve?: ResolveOverrides | undefined;
  dnsServers?: readonly string[] | undefined;
  concurrency?: number | undefined;
  /** Per API request (ms, default 10 s). */
  requestTimeoutMs?: number;
  runner?: CheckRunner;
}

export interface RunningAgent {
  readonly scheduler: ProbeScheduler;
  readonly reporter: ResultReporter;
  /** Fetch the assignments now. True when they were loaded. */
  reload(): Promise<boolean>;
  stop(): Promise<void>;
}

/** One assigned monitor, as GET /api/v1/agents/assignments returns it (checks validated like at creation). */
const assignedSpecSchema = z.object({
  id: z.string().min(1),
  componentId: z.string(),
  name: z.string(),
  intervalMs: z.number().int().min(MIN_INTERVAL_MS),
  check: z.discriminatedUnion('type', [
    z.object({ type: z.literal('http'), check: httpCheckSchema }),
    z.object({ type: z.literal('tls'), check: tlsCheckSchema }),
    z.object({ type: z.literal('dns'), check: dnsCheckSchema }),
  ]),
});
const assignmentsSchema = z.object({ region: z.string(), monitors: z.array(z.unknown()) });

/** The server refused the token (401/403): nothing works until it is replaced. */
class AuthError extends Error {}

/**
 * `keepwarm agent`: a vantage point in a region. Polls the server for the monitors assigned to its
 * region, runs them with the same scheduler and check runner as the server's own monitor role, and
 * posts the results in batches. An unreachable server never stops the probes: results are kept
 * (bounded) and delivered when it is back; assignments stay as last loaded. Never throws.
 */
export function startAgent(options: AgentOptions): RunningAgent {
  const base = new URL(options.server);
  const log = options.log.child({ region: options.region });
  const timeoutMs = options.requestTimeoutMs ?? 10_000;
  const http = new Agent({ keepAliveTimeout: 60_000, connections: 4 });
  const runner = options.runner ?? new ProbeRunner({ resolve: options.resolve, dnsServers: options.dnsServers });
  const headers = { authorization: `Bearer ${options.token}`, 'user-agent': `keepwarm-agent/0.1 (${options.region})` };

  async function call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    const url = new URL(path, base);
    const res = await http.request({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    } as Dispatcher.RequestOptions);
    const text = await res.body.text();
    let json: unknown = null;
    try {
      json = text === '' ? null : JSON.parse(text);
    } catch {
      json = text.slice(0, 200);
    }
    return { status: res.statusCode, json };
  }

  const errorText = (json: unknown) =>
    (json as { error?: { message?: string } } | null)?.error?.message ?? JSON.stringify(json)?.slice(0, 200);

  const reporter = new ResultReporter({
    log,
    async deliver(batch) {
      const { status, json } = await call('POST', '/api/v1/probe-results', {
        region: options.region,
        results: batch.map(toWire),
      });
      if (status >= 200 && status < 300) return;
      if (status === 400 || status === 413 || status === 422) throw new RejectedBatchError(`HTTP ${status}: ${errorText(json)}`);
      throw new Error(`HTTP ${status}: ${errorText(json)}`);
    },
  });
  const scheduler = new ProbeScheduler({
    run: (spec) => runner.run(spec),
    onResults: (batch) => reporter.push(batch),
    log,
    ...(options.concurrency !== undefined && { concurrency: options.concurrency }),
  });

  let stopped = false;
  let loadedOnce = false;
  let failures = 0;
  let timer: NodeJS.Timeout | null = null;
  let loading: Promise<boolean> | null = null;

  async function load(): Promise<boolean> {
    try {
      const { status, json } = await call('GET', `/api/v1/agents/assignments?region=${encodeURIComponent(options.region)}`);
      if (status === 401 || status === 403)
        throw new AuthError(`the server refused the token (HTTP ${status}): ${errorText(json)}`);
      if (status !== 200) throw new Error(`HTTP ${status}: ${errorText(json)}`);
      const parsed = assignmentsSchema.safeParse(json);
      if (!parsed.success) throw new Error('the server answered something that is not a list of assignments');
      const specs: MonitorSpec[] = [];
      for (const raw of parsed.data.monitors) {
        const spec = assignedSpecSchema.safeParse(raw);
        if (spec.success) specs.push(spec.data as MonitorSpec);
        else
          log.warn(
            { monitor: (raw as { id?: unknown } | null)?.id, problem: spec.error.issues[0]?.message },
            'skipping a monitor this agent does not understand',
          );
      }
      if (stopped) return false;
      const change = scheduler.setMonitors(specs);
      if (!loadedOnce || failures > 0 || change.added + change.changed + change.removed > 0) {
        log.info({ monitors: specs.length, ...change }, 'assignments loaded');
      }
      loadedOnce = true;
      failures = 0;
      return true;
    } catch (err) {
      failures++;
      const message = err instanceof Error ? err.message : String(err);
      if (err instanceof AuthError)
        log.error({ attempt: failures }, `${message}; create one with: keepwarm token create --role agent`);
      else
        log.warn(
          { err: message, attempt: failures, monitors: scheduler.size },
          'could not load assignments; keeping the current ones',
        );
      return false;
    }
  }

  function reload(): Promise<boolean> {
    loading ??= load().finally(() => {
      loading = null;
    });
    return loading;
  }

  function loop(): void {
    if (stopped) return;
    // After failures: back off from 1 s up to the reload interval (30 s at most), with jitter.
    const delay =
      failures === 0
        ? options.reloadMs
        : Math.min(options.reloadMs, 30_000, 1_000 * 2 ** (failures - 1)) * (0.5 + Math.random() / 2);
    timer = setTimeout(() => {
      void reload().then(loop);
    }, delay);
  }

  log.info({ server: base.origin, reloadSeconds: options.reloadMs / 1000 }, 'agent started');
  void reload().then(loop);

  return {
    scheduler,
    reporter,
    reload,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (timer) clearTimeout(timer);
      await loading;
      await scheduler.stop(2_000);
      await runner.close();
      await reporter.close(5_000);
      await http.destroy().catch(() => undefined);
      log.info({ ...scheduler.stats(), ...reporter.stats() }, 'agent stopped');
    },
  };
}

/** The API's shape of a result (the server stamps its own time). */
export function toWire(r: ProbeResult): Record<string, unknown> {
  return {
    monitor_id: r.monitorId,
    ok: r.ok,
    degraded: r.degraded,
    latency_ms: Math.min(600_000, Math.max(0, r.latencyMs)),
    ...(r.error !== undefined && { error: r.error.slice(0, 500) }),
    ...(r.statusCode !== undefined && { status_code: r.statusCode }),
  };
}
