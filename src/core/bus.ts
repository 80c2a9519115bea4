import { EventEmitter } from 'node:events';

/**
 * In-process notifications that something was committed. Listeners refresh caches, wake the
 * job worker or push live updates; they never carry the only copy of a fact (the database does).
 */
export interface BusEvents {
  /** Something the public status surfaces show has changed. */
  'public.changed': [];
  /** An incident's record or timeline has changed. */
  'incident.changed': [incidentId: string];
  /** A job was enqueued by this process. */
  'job.enqueued': [];
  /** A message of the outbox changed state. */
  'message.changed': [messageId: string];
  /** A monitor was created, changed or deleted (the in-process monitor role reloads). */
  'monitors.changed': [];
}

export class Bus {
  readonly #emitter = new EventEmitter();

  constructor() {
    this.#emitter.setMaxListeners(1000);
  }

  emit<K extends keyof BusEvents>(event: K, ...args: BusEvents[K]): void {
    this.#emitter.emit(event, ...args);
  }

  on<K extends keyof BusEvents>(event: K, listener: (...args: BusEvents[K]) => void): () => void {
    this.#emitter.on(event, listener as (...a: unknown[]) => void);
    return () => this.#emitter.off(event, listener as (...a: unknown[]) => void);
  }
}
