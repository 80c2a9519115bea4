/**
 * A real SMTP server (smtp-server) in its own process, for tests and benchmarks: it accepts mail on
 * a loopback port, records every accepted transaction (envelope, Message-ID, size, time and, unless
 * told to only count, the raw message) and takes orders on a small HTTP control API on another
 * loopback port. Start it through test/harness/smtp-sink.ts; it prints one line when ready:
 *
 *   smtp-sink ready smtp=<port> control=<port>
 *
 * and exits when its stdin closes (the test process ended).
 *
 * Arguments: --smtp-port=N (default 0: any free port) --control-port=N (default 0) --count-only
 *
 * Control API (JSON):
 *   GET    /stats                         counters, duplicates, faults, down
 *   GET    /messages?after=SEQ&limit=N&raw=1  recorded transactions after SEQ (raw: base64 source)
 *   GET    /wait?count=N&timeoutMs=MS     answers when N transactions were accepted (408 on timeout)
 *   POST   /faults  {kind, …}             add a fault (see Fault below)
 *   DELETE /faults                        clear every fault
 *   POST   /down, POST /up                stop / resume listening (open connections are cut)
 *   POST   /reset                         forget messages, counters and faults; listen again
 *   POST   /mode {countOnly}              switch raw keeping off/on
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { SMTPServer, type SMTPServerAddress, type SMTPServerSession } from 'smtp-server';

type Stage = 'CONNECT' | 'MAIL' | 'RCPT' | 'DATA';
const STAGES: readonly Stage[] = ['CONNECT', 'MAIL', 'RCPT', 'DATA'];

/** What a fault does, at which stage of a transaction, how many times (default 1; null: until cleared). */
type Fault =
  | { kind: 'reply'; stage: Stage; code: number; message: string; remaining: number | null }
  | { kind: 'drop'; stage: Stage; remaining: number | null }
  | { kind: 'stall'; stage: Stage; remaining: number | null }
  | { kind: 'reject'; recipient: string; code: number; message: string }
  | { kind: 'latency'; ms: number };

interface Recorded {
  seq: number;
  receivedAt: number;
  mailFrom: string | null;
  rcptTo: string[];
  messageId: string | null;
  size: number;
  user: string | null;
  raw: Buffer | null;
}

const args = new Map(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, '').split('=');
    return [k ?? '', v ?? 'true'] as const;
  }),
);
const HOST = '127.0.0.1';
let countOnly = args.get('count-only') === 'true';

let messages: Recorded[] = [];
let faults: Fault[] = [];
let seq = 0;
const counters = { connections: 0, transactions: 0, accepted: 0, refused: 0, dropped: 0, stalled: 0, bytes: 0 };
const messageIdCounts = new Map<string, number>();
let waiters: Array<{ count: number; resolve: () => void }> = [];
let down = false;
let smtpPort = Number(args.get('smtp-port') ?? 0);
const sockets = new Map<number, Socket>();

function smtpError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

/** The first fault of this kind at this stage that still applies (counted as used). */
function take(kind: 'reply' | 'drop' | 'stall', stage: Stage): Fault | null {
  for (const f of faults) {
    if (f.kind !== kind || f.stage !== stage) continue;
    if (f.remaining === null) return f;
    if (f.remaining > 0) {
      f.remaining--;
      if (f.remaining === 0) faults = faults.filter((x) => x !== f);
      return f;
    }
  }
  return null;
}

function latency(): number {
  return faults.reduce((ms, f) => (f.kind === 'latency' ? Math.max(ms, f.ms) : ms), 0);
}

function socketOf(session: SMTPServerSession): Socket | undefined {
  return sockets.get(session.remotePort);
}

/**
 * Run the faults of a stage. Returns true when the stage was handled (stalled, dropped or answered
 * with an error), false to carry on normally.
 */
function applyFaults(stage: Stage, session: SMTPServerSession, callback: (err?: Error | null) => void): boolean {
  if (take('stall', stage)) {
    counters.stalled++;
    return true; // never answer: the client's timeout fires
  }
  if (take('drop', stage)) {
    counters.dropped++;
    socketOf(session)?.destroy();
    return true;
  }
  const reply = take('reply', stage);
  if (reply && reply.kind === 'reply') {
    counters.refused++;
    callback(smtpError(reply.code, reply.message));
    return true;
  }
  return false;
}

function later(fn: () => void): void {
  const ms = latency();
  if (ms > 0) setTimeout(fn, ms);
  else fn();
}

/** Message-ID from the header block only (cheap enough for 20,000 messages). */
function extractMessageId(raw: Buffer): string | null {
  let end = raw.indexOf('\r\n\r\n');
  if (end < 0) end = raw.indexOf('\n\n');
  const head = raw.subarray(0, end < 0 ? Math.min(raw.length, 64 * 1024) : end).toString('latin1');
  const match = /^message-id:[ \t]*((?:.*)(?:\r?\n[ \t].*)*)/im.exec(head);
  return match?.[1] ? match[1].replace(/\r?\n[ \t]+/g, ' ').trim() : null;
}

function record(session: SMTPServerSession, raw: Buffer): Recorded {
  const messageId = extractMessageId(raw);
  const entry: Recorded = {
    seq: ++seq,
    receivedAt: Date.now(),
    mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : null,
    rcptTo: session.envelope.rcptTo.map((r) => r.address),
    messageId,
    size: raw.length,
    user: typeof session.user === 'string' ? session.user : null,
    raw: countOnly ? null : raw,
  };
  messages.push(entry);
  counters.accepted++;
  counters.bytes += raw.length;
  if (messageId) messageIdCounts.set(messageId, (messageIdCounts.get(messageId) ?? 0) + 1);
  if (waiters.length > 0) {
    const ready = waiters.filter((w) => counters.accepted >= w.count);
    waiters = waiters.filter((w) => counters.accepted < w.count);
    for (const w of ready) w.resolve();
  }
  return entry;
}

const smtp = new SMTPServer({
  logger: false,
  banner: 'keepwarm test sink',
  disabledCommands: ['STARTTLS'],
  authOptional: true,
  allowInsecureAuth: true,
  disableReverseLookup: true,
  size: 50 * 1024 * 1024,
  closeTimeout: 100,
  onAuth(auth, _session, callback) {
    callback(null, { user: auth.username ?? 'anonymous' });
  },
  onConnect(session, callback) {
    counters.connections++;
    if (applyFaults('CONNECT', session, callback)) return;
    callback();
  },
  onMailFrom(_address: SMTPServerAddress, session, callback) {
    counters.transactions++;
    if (applyFaults('MAIL', session, callback)) return;
    callback();
  },
  onRcptTo(address: SMTPServerAddress, session, callback) {
    const rejection = faults.find((f) => f.kind === 'reject' && f.recipient === address.address.toLowerCase());
    if (rejection && rejection.kind === 'reject') {
      counters.refused++;
      callback(smtpError(rejection.code, rejection.message));
      return;
    }
    if (applyFaults('RCPT', session, callback)) return;
    callback();
  },
  onData(stream, session, callback) {
    const stall = take('stall', 'DATA');
    const drop = stall ? null : take('drop', 'DATA');
    const chunks: Buffer[] = [];
    let dropped = false;
    stream.on('data', (chunk: Buffer) => {
      if (drop && !dropped) {
        // Cut the connection in the middle of DATA: the client never hears an answer.
        dropped = true;
        counters.dropped++;
        stream.resume();
        socketOf(session)?.destroy();
        return;
      }
      chunks.push(chunk);
    });
    stream.on('end', () => {
      if (dropped) return;
      if (stall) {
        counters.stalled++;
        return;
      }
      if (stream.sizeExceeded) {
        counters.refused++;
        callback(smtpError(552, '5.3.4 Message exceeds fixed maximum message size'));
        return;
      }
      const reply = take('reply', 'DATA');
      later(() => {
        if (reply && reply.kind === 'reply') {
          counters.refused++;
          callback(smtpError(reply.code, reply.message));
          return;
        }
        const entry = record(session, Buffer.concat(chunks));
        callback(null, `2.0.0 OK queued as ${entry.seq}`);
      });
    });
  },
});

smtp.on('error', () => {
  // Client misbehaviour (a dropped socket) is not the sink's problem.
});
smtp.server.on('connection', (socket: Socket) => {
  socket.setNoDelay(true);
  const port = socket.remotePort;
  if (port === undefined) return;
  sockets.set(port, socket);
  socket.once('close', () => {
    if (sockets.get(port) === socket) sockets.delete(port);
  });
});

function listenSmtp(): Promise<void> {
  return new Promise((resolve, reject) => {
    smtp.server.once('error', reject);
    smtp.server.listen(smtpPort, HOST, () => {
      smtp.server.off('error', reject);
      smtpPort = (smtp.server.address() as AddressInfo).port;
      resolve();
    });
  });
}

function stopSmtp(): Promise<void> {
  return new Promise((resolve) => {
    if (!smtp.server.listening) {
      resolve();
      return;
    }
    smtp.server.close(() => resolve());
    for (const socket of sockets.values()) socket.destroy();
  });
}

function stats() {
  let duplicates = 0;
  for (const n of messageIdCounts.values()) duplicates += n - 1;
  return {
    ...counters,
    uniqueMessageIds: messageIdCounts.size,
    duplicates,
    down,
    countOnly,
    smtpPort,
    faults: faults.map((f) => ({ ...f })),
  };
}

function parseFault(body: Record<string, unknown>): Fault {
  const kind = body.kind;
  const stage = (typeof body.stage === 'string' ? body.stage.toUpperCase() : 'MAIL') as Stage;
  if (!STAGES.includes(stage)) throw new Error(`stage: expected one of ${STAGES.join(', ')}`);
  const times = body.times === null ? null : typeof body.times === 'number' ? body.times : 1;
  switch (kind) {
    case 'reply': {
      const code = Number(body.code);
      if (!(code >= 400 && code < 600)) throw new Error('code: expected an SMTP error code 4xx or 5xx');
      const message =
        typeof body.message === 'string'
          ? body.message
          : code === 421
            ? '4.3.2 Service not available, closing transmission channel'
            : code < 500
              ? '4.3.0 Temporary failure, try again later'
              : '5.0.0 Refused';
      return { kind, stage, code, message, remaining: times };
    }
    case 'drop':
      return { kind, stage: typeof body.stage === 'string' ? stage : 'DATA', remaining: times };
    case 'stall':
      return { kind, stage: typeof body.stage === 'string' ? stage : 'DATA', remaining: times };
    case 'reject': {
      if (typeof body.recipient !== 'string') throw new Error('recipient: expected an address');
      const code = typeof body.code === 'number' ? body.code : 550;
      const message = typeof body.message === 'string' ? body.message : '5.1.1 Mailbox unavailable';
      return { kind, recipient: body.recipient.toLowerCase(), code, message };
    }
    case 'latency':
      return { kind, ms: Number(body.ms) || 0 };
    default:
      throw new Error('kind: expected reply, drop, stall, reject or latency');
  }
}

function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      text += c;
    });
    req.on('end', () => {
      try {
        resolve(text.trim() === '' ? {} : (JSON.parse(text) as Record<string, unknown>));
      } catch (err) {
        reject(err);
      }
    });
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', `http://${HOST}`);
  const route = `${req.method} ${url.pathname}`;
  switch (route) {
    case 'GET /stats':
      return send(res, 200, stats());
    case 'GET /messages': {
      const after = Number(url.searchParams.get('after') ?? 0);
      const limit = Number(url.searchParams.get('limit') ?? 1_000_000);
      const withRaw = url.searchParams.get('raw') === '1';
      // seq grows by one per message, so `after` is an index (until a reset).
      const start = messages.findIndex((m) => m.seq > after);
      const slice = start < 0 ? [] : messages.slice(start, start + limit);
      return send(res, 200, {
        messages: slice.map(({ raw, ...m }) => ({ ...m, ...(withRaw && raw && { raw: raw.toString('base64') }) })),
      });
    }
    case 'GET /wait': {
      const count = Number(url.searchParams.get('count') ?? 1);
      const timeoutMs = Number(url.searchParams.get('timeoutMs') ?? 10_000);
      if (counters.accepted >= count) return send(res, 200, stats());
      const ok = await new Promise<boolean>((resolve) => {
        const waiter = { count, resolve: () => resolve(true) };
        waiters.push(waiter);
        setTimeout(() => {
          waiters = waiters.filter((w) => w !== waiter);
          resolve(false);
        }, timeoutMs);
      });
      return send(res, ok ? 200 : 408, stats());
    }
    case 'POST /faults': {
      const fault = parseFault(await readBody(req));
      faults.push(fault);
      return send(res, 200, stats());
    }
    case 'DELETE /faults':
      faults = [];
      return send(res, 200, stats());
    case 'POST /down':
      down = true;
      await stopSmtp();
      return send(res, 200, stats());
    case 'POST /up':
      if (!smtp.server.listening) await listenSmtp();
      down = false;
      return send(res, 200, stats());
    case 'POST /reset':
      messages = [];
      faults = [];
      seq = 0;
      for (const key of Object.keys(counters)) counters[key as keyof typeof counters] = 0;
      messageIdCounts.clear();
      if (!smtp.server.listening) await listenSmtp();
      down = false;
      return send(res, 200, stats());
    case 'POST /mode': {
      const body = await readBody(req);
      countOnly = body.countOnly === true;
      return send(res, 200, stats());
    }
    default:
      return send(res, 404, { error: `no route ${route}` });
  }
}

const control = createServer((req, res) => {
  handle(req, res).catch((err: unknown) => send(res, 400, { error: err instanceof Error ? err.message : String(err) }));
});

// Idle keep-alive connections outlive the test's HTTP client's (4 s), so the client always closes
// first: a reused connection is never one the server is closing at that moment.
control.keepAliveTimeout = 65_000;
control.headersTimeout = 66_000;

await listenSmtp();
await new Promise<void>((resolve) => control.listen(Number(args.get('control-port') ?? 0), HOST, resolve));
const controlPort = (control.address() as AddressInfo).port;
process.stdout.write(`smtp-sink ready smtp=${smtpPort} control=${controlPort}\n`);

// The test process owns this one: when it goes (or closes our stdin), so do we.
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
