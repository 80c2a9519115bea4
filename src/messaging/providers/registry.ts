import type { OutboundChannel } from '../messaging.js';
import type { Provider } from './provider.js';
import { SinkProvider } from './sink.js';

/**
 * Which providers deliver each channel, in failover order (primary first). Drills and sink mode
 * use the sink on every channel, so rehearsals never reach a real person.
 */
export class ProviderRegistry {
  readonly #chains: Map<OutboundChannel, Provider[]>;
  readonly #sinkAll: boolean;
  readonly #sinks = new Map<OutboundChannel, SinkProvider>();

  constructor(chains: Map<OutboundChannel, Provider[]>, options: { sinkAll: boolean }) {
    this.#chains = chains;
    this.#sinkAll = options.sinkAll;
  }

  /** The failover chain for a message; empty when the channel has no provider configured. */
  chain(channel: OutboundChannel, drill: boolean): Provider[] {
    if (drill || this.#sinkAll) {
      let sink = this.#sinks.get(channel);
      if (!sink) {
        sink = new SinkProvider(channel);
        this.#sinks.set(channel, sink);
      }
      return [sink];
    }
    return this.#chains.get(channel) ?? [];
  }

  describe(): Array<{ channel: OutboundChannel; providers: string[] }> {
    return [...this.#chains].map(([channel, list]) => ({
      channel,
      providers: this.#sinkAll ? ['sink'] : list.map((p) => p.name),
    }));
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.#chains.values()].flat().map((p) => p.close()));
  }
}
