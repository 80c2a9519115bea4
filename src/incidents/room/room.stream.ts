import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';
import type { Actor } from '../../app/actor.js';
import type { Bus } from '../../core/bus.js';
import { AppError } from '../../core/errors.js';
import { fromDbBool, fromDbJson } from '../../db/codec.js';
import type { Database } from '../../db/database.js';
import type { Row } from '../../db/schema.js';
import type { TimelineEvent } from '../incidents.repo.js';
import * as incidentsRepo from '../incidents.repo.js';

export interface StreamOptions {
  /** Open streams one person may hold at once (tabs, reconnects). */
  maxPerUser: number;
  /** A comment line this often keeps proxies from closing an idle stream. */
  heartbeatMs: number;
  /** How often the database is read for events written by other processes. */
  pollMs: number;
}

export const STREAM_DEFAULTS: StreamOptions = { maxPerUser: 5, heartbeatMs: 15_000, pollMs: 5_000 };

/** Events written by another process may commit a little out of id order: look back this far. */
const LOOKBACK_MS = 10_000;

/** The smallest UUIDv7 of a millisecond: everything after it was made at or after `ms`. */
function idFloor(ms: number): string {
  const hex = Math.max(0, ms).toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-0000-0000-000000000000`;
}

function toEvent(row: Row<'incident_events'>): TimelineEvent {
  return {
    id: row.id,
    incidentId: row.incident_id,
    at: Number(row.at),
    type: row.type,
    actor: { type: row.actor_type, id: row.actor_id, name: row.actor_name },
    public: fromDbBool(row.public),
    data: fromDbJson(row.data, {}),
  };
}

/** The millisecond a UUIDv7 was made (0 when it is not one). */
function idTime(id: string): number {
  const ms = Number.parseInt(id.replaceAll('-', '').slice(0, 12), 16);
  return Number.isFinite(ms) ? ms : 0;
}

interface Connection {
  incidentId: string;
  userKey: string;
  raw: ServerResponse;
  close(): void;
}

/**
 * The incident room's live timeline: server-sent events. Each timeline entry is an SSE event
 * whose id is the entry's id (the timeline's order), so a reconnecting browser sends
 * Last-Event-ID and gets what it missed. New entries are noticed through the bus (this process)
 * and by reading the database every few seconds (other processes); `panels` events say that
 * something else shown in the room (deliveries) changed.
 */
export class TimelineStreams {
  readonly #db: Database;
  readonly #bus: Bus;
  readonly #options: StreamOptions;
  readonly #toData: (e: TimelineEvent) => Record<string, unknown>;
  readonly #open = new Set<Connection>();
  #closed = false;

  constructor(deps: {
    db: Database;
    bus: Bus;
    options?: Partial<StreamOptions>;
    /** What the browser receives for one entry (already plain text; it is shown with textContent). */
    toData: (e: TimelineEvent) => Record<string, unknown>;
  }) {
    this.#db = deps.db;
    this.#bus = deps.bus;
    this.#options = { ...STREAM_DEFAULTS, ...deps.options };
    this.#toData = deps.toData;
  }

  /** Open streams (for tests and metrics). */
  get size(): number {
    return this.#open.size;
  }

  /** Serve one stream until the browser goes away or the server shuts down. */
  async serve(reply: FastifyReply, actor: Actor, incidentId: string, lastEventId: string | null): Promise<void> {
    if (this.#closed) throw new AppError(503, 'shutting_down', 'The server is shutting down; reconnect in a moment.');
    const ex = this.#db.kysely;
    const backlog = (await incidentsRepo.listEvents(ex, [incidentId])).filter((e) => lastEventId === null || e.id > lastEventId);

    const userKey = `${actor.type}:${actor.id ?? actor.name}`;
    const mine = [...this.#open].filter((c) => c.userKey === userKey).length;
    if (mine >= this.#options.maxPerUser) {
      throw new AppError(
        429,
        'too_many_streams',
        `You already have ${mine} live incident streams open (at most ${this.#options.maxPerUser}); close a tab and reload.`,
      );
    }
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
      'x-content-type-options': 'nosniff',
      connection: 'keep-alive',
    });
    raw.flushHeaders();

    /** Ids sent recently (the look-back window can return them again). */
    const sent = new Map<string, number>();
    let cursorAt = lastEventId ? idTime(lastEventId) : 0;
    let cursorId = lastEventId ?? '';
    const write = (text: string) => {
      if (!raw.writableEnded && !raw.destroyed) raw.write(text);
    };
    const send = (e: TimelineEvent) => {
      if (sent.has(e.id)) return;
      sent.set(e.id, idTime(e.id));
      if (e.id > cursorId) {
        cursorId = e.id;
        cursorAt = idTime(e.id);
      }
      write(`id: ${e.id}\nevent: timeline\ndata: ${JSON.stringify(this.#toData(e))}\n\n`);
    };

    let pulling: Promise<void> | null = null;
    let again = false;
    const pull = async (): Promise<void> => {
      if (pulling) {
        again = true;
        return pulling;
      }
      pulling = (async () => {
        do {
          again = false;
          const floor = cursorId === '' ? '' : idFloor(cursorAt - LOOKBACK_MS);
          const rows = await ex
            .selectFrom('incident_events')
            .selectAll()
            .where('incident_id', '=', incidentId)
            .where('id', '>', floor)
            .orderBy('id')
            .execute();
          for (const row of rows) {
            if (sent.has(row.id) || (lastEventId !== null && row.id <= lastEventId)) continue;
            send(toEvent(row));
          }
          for (const [id, at] of sent) if (at < cursorAt - 2 * LOOKBACK_MS) sent.delete(id);
        } while (again && !raw.destroyed);
      })().finally(() => {
        pulling = null;
      });
      return pulling;
    };
    const pullQuietly = () => {
      pull().catch(() => {
        // The database is busy or away: the next poll tries again; the browser keeps what it has.
      });
    };

    let panelsTimer: NodeJS.Timeout | null = null;
    const panels = () => {
      if (panelsTimer) return;
      panelsTimer = setTimeout(() => {
        panelsTimer = null;
        write('event: panels\ndata: {}\n\n');
      }, 500);
    };

    const offIncident = this.#bus.on('incident.changed', (id) => {
      if (id === incidentId) pullQuietly();
    });
    const offMessage = this.#bus.on('message.changed', panels);
    const poll = setInterval(pullQuietly, this.#options.pollMs);
    const heartbeat = setInterval(() => write(`: heartbeat ${new Date().toISOString()}\n\n`), this.#options.heartbeatMs);

    let done = false;
    const connection: Connection = {
      incidentId,
      userKey,
      raw,
      close: () => {
        if (done) return;
        done = true;
        offIncident();
        offMessage();
        clearInterval(poll);
        clearInterval(heartbeat);
        if (panelsTimer) clearTimeout(panelsTimer);
        this.#open.delete(connection);
        if (!raw.writableEnded) raw.end();
      },
    };
    this.#open.add(connection);
    raw.on('close', connection.close);
    raw.on('error', connection.close);

    write(`retry: 3000\n\n`);
    for (const e of backlog) send(e);
    // Written between the backlog read and the subscription? Read once more.
    pullQuietly();
  }

  /** Shutdown: end every stream (browsers reconnect to another process or after the restart). */
  closeAll(): void {
    this.#closed = true;
    for (const c of [...this.#open]) {
      if (!c.raw.writableEnded) c.raw.write('event: bye\ndata: {}\n\n');
      c.close();
    }
  }
}
