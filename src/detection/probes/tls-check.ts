import { isIP } from 'node:net';
import { connect, type PeerCertificate, type TLSSocket } from 'node:tls';
import type { TlsCheck } from '../monitor.js';
import { type CheckOutcome, describeNetworkError, elapsedSince, failure, TimeoutError } from './outcome.js';
import { overriddenAddress, type ResolveOverrides } from './resolve.js';

const DAY_MS = 86_400_000;

export interface TlsCheckDeps {
  /** Wall-clock time (epoch ms), for the days left. */
  now(): number;
  resolve?: ResolveOverrides | undefined;
  /** Extra trusted certificates (tests, private CAs); the system's CAs otherwise. */
  ca?: string | Buffer | ReadonlyArray<string | Buffer> | undefined;
}

/**
 * A TLS handshake with SNI: fails when it cannot be made, when the certificate is not trusted or
 * does not match the host, or expires within `minDaysLeft` days; degraded within twice that.
 */
export function runTlsCheck(check: TlsCheck, deps: TlsCheckDeps): Promise<CheckOutcome> {
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    let socket: TLSSocket | undefined;
    const finish = (outcome: CheckOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket?.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(
      () => finish(failure(elapsedSince(started), new TimeoutError(check.timeoutMs).message)),
      check.timeoutMs,
    );
    try {
      const address = overriddenAddress(deps.resolve, check.host, check.port) ?? check.host;
      socket = connect({
        host: address,
        port: check.port,
        ...(isIP(check.host) === 0 && { servername: check.host }),
        // Judged below, so an untrusted certificate still tells its expiry in the reason.
        rejectUnauthorized: false,
        ...(deps.ca !== undefined && { ca: deps.ca as string | Buffer | Array<string | Buffer> }),
        ALPNProtocols: ['http/1.1'],
      });
    } catch (err) {
      finish(failure(elapsedSince(started), describeNetworkError(err)));
      return;
    }
    socket.once('secureConnect', () => {
      const latencyMs = elapsedSince(started);
      const s = socket as TLSSocket;
      const cert = s.getPeerCertificate();
      if (!s.authorized) {
        const code = String(s.authorizationError ?? 'unknown');
        finish(failure(latencyMs, describeNetworkError({ code, message: `TLS: certificate not trusted (${code})` })));
        return;
      }
      finish(judgeCertificate(check, cert, deps.now(), latencyMs));
    });
    socket.once('error', (err) => finish(failure(elapsedSince(started), describeNetworkError(err))));
  });
}

export function judgeCertificate(check: TlsCheck, cert: PeerCertificate, now: number, latencyMs: number): CheckOutcome {
  if (!cert?.valid_to) return failure(latencyMs, 'TLS: the server sent no certificate');
  const notAfter = Date.parse(cert.valid_to);
  const notBefore = Date.parse(cert.valid_from);
  if (!Number.isFinite(notAfter)) return failure(latencyMs, `TLS: unreadable expiry ${JSON.stringify(cert.valid_to)}`);
  if (Number.isFinite(notBefore) && notBefore > now) return failure(latencyMs, 'TLS: certificate not yet valid');
  const daysLeft = (notAfter - now) / DAY_MS;
  const days = daysLeft.toFixed(1);
  if (daysLeft < 0) return failure(latencyMs, `TLS: certificate expired ${(-daysLeft).toFixed(1)} days ago`);
  if (daysLeft < check.minDaysLeft)
    return failure(latencyMs, `TLS: certificate expires in ${days} days (minimum ${check.minDaysLeft})`);
  if (daysLeft < 2 * check.minDaysLeft)
    return { ok: true, degraded: true, latencyMs, error: `TLS: certificate expires in ${days} days` };
  return { ok: true, degraded: false, latencyMs };
}
