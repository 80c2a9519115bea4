import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import nodemailer from 'nodemailer';
import type Mail from 'nodemailer/lib/mailer/index.js';
import SMTPPool from 'nodemailer/lib/smtp-pool/index.js';
import type { Logger } from 'pino';
import { type OutboundMessage, type Provider, ProviderError, type SendResult } from './provider.js';

export interface SmtpProviderOptions {
  name: string;
  /** smtp://user:pass@host:port or smtps://… */
  url: string;
  /** From header (and envelope sender): "Name <address>" or a bare address. */
  from: string;
  replyTo?: string | undefined;
  maxConnections: number;
  /** Connection, greeting and socket inactivity timeout. */
  timeoutMs: number;
  log?: Logger | undefined;
}

/** The address part of "Name <address>" or a bare address. */
function addressOf(mailbox: string): string {
  const angle = /<([^<>]+)>\s*$/.exec(mailbox);
  return (angle?.[1] ?? mailbox).trim();
}

/**
 * The Message-ID of a message: derived from its idempotency key, so every retry (also after a crash,
 * or through the fallback server) carries the same Message-ID and receivers can see a repeat for what
 * it is. `<32 hex of SHA-256(key)@sender domain>`.
 */
export function messageIdFor(idempotencyKey: string, from: string): string {
  const address = addressOf(from);
  const at = address.lastIndexOf('@');
  const domain = at >= 0 && at < address.length - 1 ? address.slice(at + 1).toLowerCase() : 'keepwarm.invalid';
  const hash = createHash('sha256').update(idempotencyKey, 'utf8').digest('hex').slice(0, 32);
  return `<${hash}@${domain}>`;
}

interface SmtpFailure {
  code?: unknown;
  responseCode?: unknown;
  command?: unknown;
  response?: unknown;
  message?: unknown;
}

/** Codes of a reply that concern the recipient mailbox, at RCPT TO (RFC 5321 4.2.3). */
const RECIPIENT_REPLIES = new Set([550, 551, 553]);

/**
 * How an SMTP failure maps onto the provider error kinds: a 4xx reply is transient; a 5xx reply to
 * RCPT TO of 550/551/553 (or any 5xx with an enhanced status 5.1.x, a bad destination) concerns the
 * recipient; other 5xx are permanent. Without a reply: timeouts, connection failures, the rest.
 */
export function classifySmtpError(err: unknown, what = 'SMTP'): ProviderError {
  const e = (typeof err === 'object' && err !== null ? err : { message: String(err) }) as SmtpFailure;
  const message = typeof e.message === 'string' ? e.message : String(err);
  const rc = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  const command = typeof e.command === 'string' ? e.command : undefined;
  const label = `${what}: ${message}${command && !message.includes(command) ? ` (at ${command})` : ''}`;
  if (rc !== undefined && rc >= 400 && rc < 500) {
    return new ProviderError('transient', label, { code: String(rc), cause: err });
  }
  if (rc !== undefined && rc >= 500 && rc < 600) {
    const response = typeof e.response === 'string' ? e.response : '';
    const enhanced = /^\d{3}[ -]([245])\.(\d{1,3})\.\d{1,3}\b/.exec(response);
    const badDestination = enhanced?.[1] === '5' && enhanced[2] === '1';
    if ((command === 'RCPT TO' && RECIPIENT_REPLIES.has(rc)) || badDestination) {
      return new ProviderError('recipient', label, { code: String(rc), cause: err });
    }
    if (command === 'RCPT TO' && rc === 552) {
      // RFC 5321 4.5.3.1.10: a 552 to RCPT means "too many recipients": treat it as 452.
      return new ProviderError('transient', label, { code: String(rc), cause: err });
    }
    return new ProviderError('permanent', label, { code: String(rc), cause: err });
  }
  const code = typeof e.code === 'string' ? e.code : undefined;
  switch (code) {
    case 'ETIMEDOUT':
      return new ProviderError('timeout', label, { code, cause: err });
    case 'ECONNECTION':
    case 'ESOCKET':
    case 'EDNS':
    case 'ETLS':
    case 'EPROXY':
      return new ProviderError('connection', label, { code, cause: err });
    case 'EAUTH':
    case 'ENOAUTH':
    case 'EOAUTH2':
    case 'ECONFIG':
    case 'EREQUIRETLS':
    case 'EMESSAGE':
      return new ProviderError('permanent', label, { code, cause: err });
    case 'EENVELOPE':
      // Refused before a server reply: the address itself is malformed.
      return new ProviderError('recipient', label, { code, cause: err });
    default:
      break;
  }
  if (/pool was closed|connection was closed|connection closed/i.test(message)) {
    return new ProviderError('connection', label, { code: code ?? 'closed', cause: err });
  }
  return new ProviderError('transient', label, { code, cause: err });
}

/**
 * At most `size` sends in flight. A send waits here, where giving up is clean (nothing was written
 * to a server), instead of in nodemailer's queue, whose entries cannot be withdrawn: a send that
 * timed out there would still go out later, after its retry.
 */
class Slots {
  #free: number;
  readonly #waiting: Array<() => void> = [];

  constructor(size: number) {
    this.#free = size;
  }

  acquire(signal: AbortSignal): Promise<() => void> {
    const release = () => {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free++;
    };
    if (this.#free > 0) {
      this.#free--;
      return Promise.resolve(release);
    }
    return new Promise((resolve, reject) => {
      const grant = () => {
        signal.removeEventListener('abort', onAbort);
        resolve(release);
      };
      const onAbort = () => {
        const index = this.#waiting.indexOf(grant);
        if (index >= 0) this.#waiting.splice(index, 1);
        reject(signal.reason);
      };
      this.#waiting.push(grant);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/**
 * Email through an SMTP server with a nodemailer connection pool. Message-ID comes from the
 * idempotency key; List-Unsubscribe and List-Unsubscribe-Post (RFC 8058 one-click) are set whenever
 * the message carries an unsubscribe URL. SMTP cannot be asked what it accepted, so there is no
 * lookup(): a message in doubt is sent again with the same Message-ID.
 */
export class SmtpProvider implements Provider {
  readonly name: string;
  readonly channel = 'email' as const;
  readonly #transport: Mail<SMTPPool.SentMessageInfo>;
  readonly #rateKey: string;
  readonly #from: string;
  readonly #replyTo: string | undefined;
  readonly #slots: Slots;

  constructor(options: SmtpProviderOptions) {
    this.name = options.name;
    this.#from = options.from;
    this.#replyTo = options.replyTo;
    const url = new URL(options.url);
    const secure = url.protocol === 'smtps:';
    const port = url.port === '' ? (secure ? 465 : 587) : Number(url.port);
    this.#rateKey = `smtp:${url.hostname}:${port}`;
    const poolOptions: SMTPPool.Options & { maxRequeues: number } = {
      pool: true,
      url: options.url,
      maxConnections: options.maxConnections,
      connectionTimeout: options.timeoutMs,
      greetingTimeout: options.timeoutMs,
      socketTimeout: options.timeoutMs,
      dnsTimeout: options.timeoutMs,
      // A message whose connection dropped fails (the outbox retries it) instead of being re-sent
      // silently by the pool, possibly to a server that had already accepted it.
      maxRequeues: 0,
      logger: false,
      // Plain connections (STARTTLS included) with Nagle off: SMTP is a ping-pong of small writes, and
      // Nagle with delayed ACKs adds ~40 ms to each message. The socket is handed over still
      // connecting: its errors reach nodemailer's handlers (ESOCKET), a slow connect ends in the
      // greeting timeout. Implicit TLS (smtps) keeps nodemailer's own socket.
      getSocket: (_options, callback) => {
        callback(
          null,
          secure ? false : { connection: connect({ host: url.hostname.replace(/^\[|\]$/g, ''), port, noDelay: true }) },
        );
      },
    };
    // The pool itself, not createTransport(options): given a `url`, createTransport drops every other option.
    this.#transport = nodemailer.createTransport(new SMTPPool(poolOptions));
    this.#slots = new Slots(options.maxConnections);
    const log = options.log;
    this.#transport.on('error', (err) => log?.warn({ provider: this.name, err }, 'SMTP transport error'));
  }

  /** One bucket per SMTP server. */
  rateKey(): string {
    return this.#rateKey;
  }

  compose(message: OutboundMessage): Mail.Options {
    const headers: Record<string, string> = {};
    if (message.unsubscribeUrl) {
      headers['List-Unsubscribe'] = `<${message.unsubscribeUrl}>`;
      headers['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click';
    }
    return {
      from: this.#from,
      ...(this.#replyTo !== undefined && { replyTo: this.#replyTo }),
      to: message.toName ? { name: message.toName, address: message.to } : message.to,
      ...(message.subject !== undefined && { subject: message.subject }),
      text: message.text,
      ...(message.html !== undefined && { html: message.html }),
      messageId: messageIdFor(message.idempotencyKey, this.#from),
      headers,
      disableFileAccess: true,
      disableUrlAccess: true,
    };
  }

  async send(message: OutboundMessage, signal: AbortSignal): Promise<SendResult> {
    const timeout = () =>
      new ProviderError('timeout', `SMTP ${this.name}: no answer before the deadline`, {
        code: 'deadline',
        cause: signal.reason,
      });
    if (signal.aborted) throw timeout();
    const mail = this.compose(message);
    let release: () => void;
    try {
      release = await this.#slots.acquire(signal);
    } catch {
      throw timeout();
    }
    const sending = this.#transport.sendMail(mail).finally(release);
    return new Promise<SendResult>((resolve, reject) => {
      const onAbort = () => reject(timeout());
      signal.addEventListener('abort', onAbort, { once: true });
      sending
        .then(
          (info) => {
            const rejected = Array.isArray(info.rejected) ? info.rejected : [];
            if (rejected.length > 0 && (info.accepted?.length ?? 0) === 0) {
              reject(new ProviderError('recipient', `SMTP ${this.name}: recipient refused`, { code: 'rejected' }));
              return;
            }
            resolve({
              providerMessageId: info.messageId || (mail.messageId as string),
              status: 'sent',
              detail: typeof info.response === 'string' ? info.response : undefined,
            });
          },
          (err: unknown) => reject(classifySmtpError(err, `SMTP ${this.name}`)),
        )
        .finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  async close(): Promise<void> {
    this.#transport.close();
  }
}
