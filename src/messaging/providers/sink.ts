import type { OutboundChannel } from '../messaging.js';
import type { OutboundMessage, Provider, SendResult } from './provider.js';

/**
 * Delivers nowhere: the message, already stored in the outbox, is marked delivered. Demos and
 * drills use it on every channel so nothing leaves the machine; the console shows what was "sent".
 */
export class SinkProvider implements Provider {
  readonly name: string;
  readonly channel: OutboundChannel;

  constructor(channel: OutboundChannel) {
    this.channel = channel;
    this.name = `sink:${channel}`;
  }

  rateKey(): string | null {
    return null;
  }

  async send(message: OutboundMessage): Promise<SendResult> {
    return { providerMessageId: `sink-${message.id}`, status: 'delivered' };
  }

  async close(): Promise<void> {}
}
