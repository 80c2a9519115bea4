import { Agent, type Dispatcher, Pool } from 'undici';
import type { MonitorCheck, MonitorSpec, ProbeResult } from '../monitor.js';
import { runDnsCheck } from './dns-check.js';
import { runHttpCheck } from './http-check.js';
import { type CheckOutcome, describeNetworkError, failure } from './outcome.js';
import { fixedLookup, overriddenAddress, type ResolveOverrides } from './resolve.js';
import { runTlsCheck } from './tls-check.js';

export interface ProbeRunnerOptions {
  /** Wall-clock time (epoch ms) stamped on results and used for certificate expiry. */
  now?: () => number;
  /** HOST:PORT → address overrides (`keepwarm agent --resolve`). */
  resolve?: ResolveOverrides | undefined;
  /** Name servers for DNS checks; the system's otherwise. */
  dnsServers?: readonly string[] | undefined;
  /** Extra trusted CA certificates for HTTPS and TLS checks. */
  ca?: string | Buffer | ReadonlyArray<string | Buffer> | undefined;
  /** Idle keep-alive time when the server does not say (undici's hint-less default is 4 s). */
  keepAliveMs?: number;
}

/** Runs one check of any type: the same code in the local monitor role, `keepwarm agent` and the benchmark. */
export interface CheckRunner {
  run(spec: MonitorSpec): Promise<ProbeResult>;
  close(): Promise<void>;
}

/**
 * The check runner. HTTP checks share one undici Agent: a connection pool per origin with
 * keep-alive, so checks against an origin reuse warm connections (no TCP/TLS handshake per check;
 * on a busy agent that is most of the CPU). Servers' `Keep-Alive: timeout` hints are honoured.
 */
export class ProbeRunner implements CheckRunner {
  readonly #now: () => number;
  readonly #options: ProbeRunnerOptions;
  readonly #agent: Agent;
  #closed = false;

  constructor(options: ProbeRunnerOptions = {}) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    const resolve = options.resolve;
    const ca = options.ca;
    const keepAliveMs = options.keepAliveMs ?? 60_000;
    this.#agent = new Agent({
      keepAliveTimeout: keepAliveMs,
      keepAliveMaxTimeout: Math.max(keepAliveMs, 600_000),
      keepAliveTimeoutThreshold: 1_000,
      pipelining: 1,
      ...(ca !== undefined && { connect: { ca: ca as string | Buffer | Array<string | Buffer> } }),
      factory: (origin: string | URL, opts: object): Dispatcher => {
        const url = typeof origin === 'string' ? new URL(origin) : origin;
        const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
        const address = overriddenAddress(resolve, url.hostname, port);
        if (address === undefined) return new Pool(origin, opts as Pool.Options);
        return new Pool(origin, {
          ...(opts as Pool.Options),
          connect: {
            ...(ca !== undefined && { ca: ca as string | Buffer | Array<string | Buffer> }),
            lookup: fixedLookup(address),
          },
        });
      },
    });
  }

  async run(spec: MonitorSpec): Promise<ProbeResult> {
    let outcome: CheckOutcome;
    try {
      outcome = this.#closed ? failure(0, 'probe runner closed') : await this.#check(spec.check);
    } catch (err) {
      // The checks do not throw; this is a bug or an exotic error, still a result.
      outcome = failure(0, `probe error: ${describeNetworkError(err)}`);
    }
    return {
      monitorId: spec.id,
      at: this.#now(),
      ok: outcome.ok,
      degraded: outcome.degraded,
      latencyMs: outcome.latencyMs,
      ...(outcome.error !== undefined && { error: outcome.error }),
      ...(outcome.statusCode !== undefined && { statusCode: outcome.statusCode }),
    };
  }

  #check(check: MonitorCheck): Promise<CheckOutcome> {
    switch (check.type) {
      case 'http':
        return runHttpCheck(check.check, this.#agent);
      case 'tls':
        return runTlsCheck(check.check, { now: this.#now, resolve: this.#options.resolve, ca: this.#options.ca });
      case 'dns':
        return runDnsCheck(check.check, { servers: this.#options.dnsServers });
    }
  }

  /** Close pooled connections; checks still running fail. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#agent.destroy().catch(() => undefined);
  }
}
