import { Resolver } from 'node:dns/promises';
import type { DnsCheck } from '../monitor.js';
import { type CheckOutcome, elapsedSince, failure, TimeoutError } from './outcome.js';

export interface DnsCheckDeps {
  /** Name servers to ask ("127.0.0.1:5353"); the system's otherwise. */
  servers?: readonly string[] | undefined;
}

const DNS_ERRORS: Record<string, string> = {
  ENOTFOUND: 'no such name (NXDOMAIN)',
  ENODATA: 'no records of that type',
  ESERVFAIL: 'the name server failed (SERVFAIL)',
  EREFUSED: 'the name server refused the query',
  ECONNREFUSED: 'could not reach the name server',
  ETIMEOUT: 'the name server did not answer',
  EBADRESP: 'bad answer from the name server',
  ECANCELLED: 'cancelled',
};

/** Resolve one name by DNS (not the hosts file) and, when answers are expected, require one of them. */
export async function runDnsCheck(check: DnsCheck, deps: DnsCheckDeps = {}): Promise<CheckOutcome> {
  const started = performance.now();
  const resolver = new Resolver({ timeout: check.timeoutMs, tries: 1 });
  if (deps.servers && deps.servers.length > 0) resolver.setServers([...deps.servers]);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      resolver.cancel();
      reject(new TimeoutError(check.timeoutMs));
    }, check.timeoutMs);
  });
  try {
    const answers = await Promise.race([lookup(resolver, check), deadline]);
    const latencyMs = elapsedSince(started);
    if (answers.length === 0) return failure(latencyMs, `DNS: no ${check.recordType} records`);
    if (check.expect.length > 0) {
      const norm = (a: string) => normalise(a, check.recordType);
      const got = new Set(answers.map(norm));
      if (!check.expect.some((e) => got.has(norm(e)))) {
        return failure(latencyMs, `DNS: ${check.recordType} is ${preview(answers)}, expected one of ${preview(check.expect)}`);
      }
    }
    return { ok: true, degraded: false, latencyMs };
  } catch (err) {
    const latencyMs = elapsedSince(started);
    if (err instanceof TimeoutError) return failure(latencyMs, err.message);
    const code = (err as { code?: string }).code ?? '';
    if (code === 'ENODATA') return failure(latencyMs, `DNS: no ${check.recordType} records`);
    return failure(latencyMs, `DNS: ${DNS_ERRORS[code] ?? (err instanceof Error ? err.message : String(err))}`);
  } finally {
    clearTimeout(timer);
  }
}

async function lookup(resolver: Resolver, check: DnsCheck): Promise<string[]> {
  switch (check.recordType) {
    case 'A':
      return resolver.resolve4(check.hostname);
    case 'AAAA':
      return resolver.resolve6(check.hostname);
    case 'CNAME':
      return resolver.resolveCname(check.hostname);
    case 'TXT':
      return (await resolver.resolveTxt(check.hostname)).map((parts) => parts.join(''));
    case 'MX':
      return (await resolver.resolveMx(check.hostname)).map((mx) => mx.exchange);
  }
}

/** Names compare without case or the root dot; TXT values exactly. */
function normalise(answer: string, type: DnsCheck['recordType']): string {
  return type === 'TXT' ? answer.trim() : answer.trim().toLowerCase().replace(/\.$/, '');
}

function preview(values: readonly string[]): string {
  const text = values.slice(0, 5).join(', ') + (values.length > 5 ? `, … (${values.length})` : '');
  return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}
