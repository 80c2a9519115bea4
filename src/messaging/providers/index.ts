import type { Logger } from 'pino';
import type { Config } from '../../config/config.js';
import type { OutboundChannel } from '../messaging.js';
import { MastodonProvider } from './mastodon.js';
import type { Provider } from './provider.js';
import { ProviderRegistry } from './registry.js';
import { SlackProvider } from './slack.js';
import { SmtpProvider } from './smtp.js';
import { TwilioProvider } from './twilio.js';
import { WebhookProvider } from './webhook.js';

/**
 * Build each channel's provider chain from the configuration, in failover order:
 * - email: SMTP `smtp.url`, then `smtp.fallbackUrl`;
 * - sms: the Twilio account, then `twilio.fallback`;
 * - slack: the incoming webhook; social: Mastodon;
 * - webhook: one provider posting to the configured webhook whose name is the message's `to`.
 * A channel without configuration has no chain (the outbox marks its messages failed, naming it).
 */
export function createProviderRegistry(config: Config, log: Logger): ProviderRegistry {
  const chains = new Map<OutboundChannel, Provider[]>();
  const add = (channel: OutboundChannel, provider: Provider) => {
    const chain = chains.get(channel) ?? [];
    chain.push(provider);
    chains.set(channel, chain);
  };

  const smtp = { from: config.messaging.from, replyTo: config.messaging.replyTo, log };
  const smtpCommon = {
    ...smtp,
    maxConnections: config.smtp.maxConnections,
    timeoutMs: config.smtp.timeoutSeconds * 1000,
  };
  if (config.smtp.url) add('email', new SmtpProvider({ ...smtpCommon, name: 'smtp:primary', url: config.smtp.url }));
  if (config.smtp.fallbackUrl) {
    add('email', new SmtpProvider({ ...smtpCommon, name: 'smtp:fallback', url: config.smtp.fallbackUrl }));
  }

  const twilio = config.twilio;
  if (twilio.accountSid && twilio.authToken && twilio.from) {
    add(
      'sms',
      new TwilioProvider({
        name: 'twilio:primary',
        account: { accountSid: twilio.accountSid, authToken: twilio.authToken, baseUrl: twilio.baseUrl, from: twilio.from },
        log,
      }),
    );
  } else if (twilio.accountSid || twilio.authToken || twilio.from) {
    log.warn('twilio: accountSid, authToken and from are all needed to send SMS; the primary account is not used');
  }
  if (twilio.fallback) add('sms', new TwilioProvider({ name: 'twilio:fallback', account: twilio.fallback, log }));

  if (config.slack.webhookUrl) add('slack', new SlackProvider({ webhookUrl: config.slack.webhookUrl }));

  const mastodon = config.mastodon;
  if (mastodon.url && mastodon.accessToken) {
    add(
      'social',
      new MastodonProvider({
        url: mastodon.url,
        accessToken: mastodon.accessToken,
        visibility: mastodon.visibility,
        characterLimit: mastodon.characterLimit,
      }),
    );
  } else if (mastodon.url || mastodon.accessToken) {
    log.warn('mastodon: both url and accessToken are needed to post; social posts are not sent');
  }

  if (config.webhooks.length > 0) add('webhook', new WebhookProvider({ targets: config.webhooks }));

  return new ProviderRegistry(chains, { sinkAll: config.messaging.sink });
}
