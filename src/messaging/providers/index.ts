import type { Logger } from 'pino';
import type { Config } from '../../config/config.js';
import type { OutboundChannel } from '../messaging.js';
import type { Provider } from './provider.js';
import { ProviderRegistry } from './registry.js';

/**
 * Build each channel's provider chain from the configuration (primary first, then fallbacks).
 * (Skeleton: the providers work adds SMTP, Twilio, Slack, Mastodon and webhooks.)
 */
export function createProviderRegistry(config: Config, _log: Logger): ProviderRegistry {
  const chains = new Map<OutboundChannel, Provider[]>();
  return new ProviderRegistry(chains, { sinkAll: config.messaging.sink });
}
