import { readFileSync } from 'node:fs';

/**
 * Watches the accept queue of a listening TCP socket (Linux /proc/net/tcp: for a LISTEN socket the
 * rx_queue column is the number of connections the kernel completed and the server has not accepted
 * yet). A server that accepts slowly while busy shows a long drain after wrk opens its connections,
 * and every request sent on a waiting connection counts that wait as latency.
 */
export interface AcceptQueueReport {
  /** Most connections waiting at once. */
  max: number;
  /** Time from the start of watching until the queue was last seen non-empty (0: never waited). */
  drainedAfterMs: number;
}

export interface AcceptQueueWatch {
  stop(): AcceptQueueReport | null;
}

function listenQueue(port: number): number | null {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  let text: string;
  try {
    text = readFileSync('/proc/net/tcp', 'utf8');
  } catch {
    return null;
  }
  for (const line of text.split('\n')) {
    const cols = line.trim().split(/\s+/);
    // local_address is HEXIP:HEXPORT; st 0A is LISTEN; tx_queue:rx_queue in hex
    if (cols[3] === '0A' && cols[1]?.endsWith(`:${hexPort}`)) return Number.parseInt(cols[4]?.split(':')[1] ?? '0', 16);
  }
  return null;
}

export function watchAcceptQueue(port: number, intervalMs = 20): AcceptQueueWatch {
  const startedAt = performance.now();
  let max = 0;
  let lastBusy = 0;
  let available = listenQueue(port) !== null;
  const timer = setInterval(() => {
    const n = listenQueue(port);
    if (n === null) {
      available = false;
      return;
    }
    if (n > max) max = n;
    if (n > 0) lastBusy = performance.now() - startedAt;
  }, intervalMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      return available ? { max, drainedAfterMs: Math.round(lastBusy) } : null;
    },
  };
}
