import type { LookupAddress, LookupOptions } from 'node:dns';
import { isIP } from 'node:net';

/**
 * Fixed name → address answers for the probes, curl's `--resolve HOST:PORT:ADDRESS`: a debugging
 * aid to see an origin the way another vantage point does (split-horizon DNS, a region's edge),
 * without touching /etc/hosts. Only the HTTP and TLS checks use it; DNS checks ask DNS.
 */
export type ResolveOverrides = ReadonlyMap<string, string>;

/** "HOST:PORT:ADDRESS" (IPv6 addresses in brackets, as curl has them) → map key "host:port". */
export function parseResolveOverrides(entries: readonly string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const entry of entries) {
    const match = /^([^:\s]+):(\d{1,5}):\[?([^\]\s]+)\]?$/.exec(entry.trim());
    const host = match?.[1];
    const port = Number(match?.[2]);
    const address = match?.[3];
    if (!host || !address || !Number.isInteger(port) || port < 1 || port > 65535 || isIP(address) === 0) {
      throw new Error(
        `--resolve ${JSON.stringify(entry)}: expected HOST:PORT:ADDRESS with an IP address, e.g. shop.example:443:127.0.0.1`,
      );
    }
    map.set(overrideKey(host, port), address);
  }
  return map;
}

export function overrideKey(host: string, port: number): string {
  return `${host.toLowerCase().replace(/^\[|\]$/g, '')}:${port}`;
}

/** The address to connect to for host:port, when overridden. */
export function overriddenAddress(overrides: ResolveOverrides | undefined, host: string, port: number): string | undefined {
  return overrides?.get(overrideKey(host, port));
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A `lookup` for net/tls.connect that always answers `address` (both the one-answer and the `all` forms). */
export function fixedLookup(address: string): (hostname: string, options: LookupOptions, callback: LookupCallback) => void {
  const family = isIP(address);
  return (_hostname, options, callback) => {
    if (options?.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  };
}
