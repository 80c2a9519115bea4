import type { ChildProcess } from 'node:child_process';
import { simpleParser } from 'mailparser';
import { spawnTs, waitForExit, waitForLine } from './processes.js';

/**
 * The test side of the SMTP sink (test/harness/smtp-sink-process.ts): a real SMTP server in its own
 * process, so it keeps accepting (and counting) while the process under test is busy, killed or
 * restarted.
 *
 *   const sink = await startSmtpSink();            // or { countOnly: true } for benchmarks
 *   config: { smtp: { url: sink.url } }
 *   await sink.waitForCount(10);
 *   const mail = await sink.parsed();               // mailparser: messageId, from, to, subject, text, html, headers
 *   await sink.fail({ code: 451, stage: 'RCPT', times: 2 });
 *   await sink.down(); … await sink.up();
 *   await sink.stop();
 */

export type SmtpStage = 'CONNECT' | 'MAIL' | 'RCPT' | 'DATA';

export interface SinkStats {
  connections: number;
  /** MAIL FROM commands seen. */
  transactions: number;
  /** Messages accepted (250 after DATA): every one, duplicates included. */
  accepted: number;
  /** Replies with an error code (faults, rejected recipients, oversize). */
  refused: number;
  dropped: number;
  stalled: number;
  bytes: number;
  /** Distinct Message-IDs among accepted messages. */
  uniqueMessageIds: number;
  /** Accepted messages whose Message-ID had been accepted before. */
  duplicates: number;
  down: boolean;
  countOnly: boolean;
  smtpPort: number;
  faults: unknown[];
}

export interface SinkMessage {
  /** 1, 2, 3, … in order of acceptance. */
  seq: number;
  receivedAt: number;
  mailFrom: string | null;
  rcptTo: string[];
  /** The Message-ID header as received, angle brackets included. */
  messageId: string | null;
  size: number;
  /** AUTH user, if the client logged in. */
  user: string | null;
  /** The raw source (absent in count-only mode). */
  raw?: Buffer;
}

export interface ParsedSinkMessage {
  seq: number;
  receivedAt: number;
  envelope: { mailFrom: string | null; rcptTo: string[] };
  messageId: string | undefined;
  /** From header as text, e.g. "Keepwarm <status@example.test>". */
  from: string | undefined;
  fromAddress: string | undefined;
  /** Addresses of the To header. */
  to: string[];
  subject: string | undefined;
  text: string | undefined;
  html: string | undefined;
  /** Header values as sent (unfolded), by lower-case name; the first of repeated headers. */
  headers: Record<string, string>;
  raw: Buffer;
}

export interface SmtpSinkOptions {
  /** Count and keep envelopes only, no message sources (benchmarks). */
  countOnly?: boolean;
  /** Fixed ports (default: any free port). */
  smtpPort?: number;
  controlPort?: number;
}

export class SmtpSink {
  readonly host = '127.0.0.1';
  readonly port: number;
  readonly controlPort: number;
  readonly #child: ChildProcess;
  readonly #control: string;

  constructor(child: ChildProcess, port: number, controlPort: number) {
    this.#child = child;
    this.port = port;
    this.controlPort = controlPort;
    this.#control = `http://127.0.0.1:${controlPort}`;
  }

  /** smtp://127.0.0.1:PORT, for config.smtp.url. */
  get url(): string {
    return `smtp://${this.host}:${this.port}`;
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  async #call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.#control}${path}`, {
      method,
      ...(body !== undefined && { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    const json = (await res.json()) as T & { error?: string };
    if (!res.ok && res.status !== 408) throw new Error(`smtp sink ${method} ${path}: ${json.error ?? res.status}`);
    return json;
  }

  stats(): Promise<SinkStats> {
    return this.#call('GET', '/stats');
  }

  async count(): Promise<number> {
    return (await this.stats()).accepted;
  }

  /** Recorded messages, oldest first (raw sources included unless count-only or `raw: false`). */
  async messages(options: { after?: number; limit?: number; raw?: boolean } = {}): Promise<SinkMessage[]> {
    const query = new URLSearchParams({
      after: String(options.after ?? 0),
      ...(options.limit !== undefined && { limit: String(options.limit) }),
      raw: options.raw === false ? '0' : '1',
    });
    const { messages } = await this.#call<{ messages: Array<Omit<SinkMessage, 'raw'> & { raw?: string }> }>(
      'GET',
      `/messages?${query.toString()}`,
    );
    return messages.map(({ raw, ...m }) => ({ ...m, ...(raw !== undefined && { raw: Buffer.from(raw, 'base64') }) }));
  }

  /** Every recorded message parsed with mailparser (needs raw sources: not in count-only mode). */
  async parsed(options: { after?: number; limit?: number } = {}): Promise<ParsedSinkMessage[]> {
    const out: ParsedSinkMessage[] = [];
    for (const m of await this.messages(options)) {
      if (!m.raw) throw new Error('the sink keeps no message sources in count-only mode');
      out.push(await parseSinkMessage(m, m.raw));
    }
    return out;
  }

  /** Resolve once `count` messages were accepted in all (rejects after `timeoutMs`). */
  async waitForCount(count: number, timeoutMs = 10_000): Promise<SinkStats> {
    const res = await fetch(`${this.#control}/wait?count=${count}&timeoutMs=${timeoutMs}`);
    const stats = (await res.json()) as SinkStats;
    if (res.status === 408) throw new Error(`smtp sink: ${stats.accepted} of ${count} messages after ${timeoutMs} ms`);
    return stats;
  }

  /**
   * Answer with an error code at a stage, for the next `times` transactions (default 1; null: until
   * cleared). 421 closes the connection, as servers do. Default stage: MAIL.
   */
  fail(options: { code: number; stage?: SmtpStage; times?: number | null; message?: string }): Promise<SinkStats> {
    return this.#call('POST', '/faults', { kind: 'reply', ...options });
  }

  /** Refuse a recipient at RCPT TO (default 550 5.1.1), until cleared. */
  rejectRecipient(address: string, code = 550, message?: string): Promise<SinkStats> {
    return this.#call('POST', '/faults', { kind: 'reject', recipient: address, code, ...(message && { message }) });
  }

  /** Cut the connection at a stage (default DATA: after the first chunk of the message). */
  drop(options: { stage?: SmtpStage; times?: number | null } = {}): Promise<SinkStats> {
    return this.#call('POST', '/faults', { kind: 'drop', ...options });
  }

  /** Never answer at a stage (default DATA: after the whole message), so the client times out. */
  stall(options: { stage?: SmtpStage; times?: number | null } = {}): Promise<SinkStats> {
    return this.#call('POST', '/faults', { kind: 'stall', ...options });
  }

  /** Wait this long before answering each DATA (a slow server). */
  latency(ms: number): Promise<SinkStats> {
    return this.#call('POST', '/faults', { kind: 'latency', ms });
  }

  clearFaults(): Promise<SinkStats> {
    return this.#call('DELETE', '/faults');
  }

  /** Stop listening and cut open connections: clients get "connection refused". */
  down(): Promise<SinkStats> {
    return this.#call('POST', '/down');
  }

  /** Listen again, on the same port. */
  up(): Promise<SinkStats> {
    return this.#call('POST', '/up');
  }

  /** Forget messages, counters and faults; listen again if down. */
  reset(): Promise<SinkStats> {
    return this.#call('POST', '/reset');
  }

  setCountOnly(countOnly: boolean): Promise<SinkStats> {
    return this.#call('POST', '/mode', { countOnly });
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    this.#child.stdin?.end();
    const exited = waitForExit(this.#child);
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 2_000);
    await exited;
    clearTimeout(timer);
  }
}

export async function parseSinkMessage(m: Omit<SinkMessage, 'raw'>, raw: Buffer): Promise<ParsedSinkMessage> {
  const mail = await simpleParser(raw, { skipImageLinks: true, skipTextToHtml: true, skipTextLinks: true });
  const headers: Record<string, string> = {};
  for (const { key, line } of mail.headerLines) {
    if (key in headers) continue;
    const colon = line.indexOf(':');
    headers[key] = line
      .slice(colon + 1)
      .replace(/\r?\n[ \t]+/g, ' ')
      .trim();
  }
  const toList = mail.to === undefined ? [] : Array.isArray(mail.to) ? mail.to : [mail.to];
  return {
    seq: m.seq,
    receivedAt: m.receivedAt,
    envelope: { mailFrom: m.mailFrom, rcptTo: m.rcptTo },
    messageId: mail.messageId,
    from: mail.from?.text,
    fromAddress: mail.from?.value[0]?.address,
    to: toList.flatMap((t) => t.value.map((a) => a.address ?? '')).filter((a) => a !== ''),
    subject: mail.subject,
    text: mail.text,
    html: typeof mail.html === 'string' ? mail.html : undefined,
    headers,
    raw,
  };
}

/** Start the sink process and wait until it listens. */
export async function startSmtpSink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const args = [
    `--smtp-port=${options.smtpPort ?? 0}`,
    `--control-port=${options.controlPort ?? 0}`,
    ...(options.countOnly ? ['--count-only'] : []),
  ];
  const child = spawnTs('test/harness/smtp-sink-process.ts', args);
  child.stderr?.resume();
  const match = await waitForLine(child, /^smtp-sink ready smtp=(\d+) control=(\d+)/);
  child.stdout?.resume();
  return new SmtpSink(child, Number(match[1]), Number(match[2]));
}
