import type { Config } from '../../config/config.js';
import type { StatuspageDocuments } from '../../incidents/statuspage.js';
import { type BannerOptions, buildBanner } from '../banner.js';

/** The banner's links from the configuration: the live status page, and where buyers keep browsing. */
export function bannerOptionsFromConfig(config: Pick<Config, 'publicUrl' | 'status' | 'messaging'>): BannerOptions {
  return {
    statusUrl: `${config.publicUrl}/status`,
    fallbackUrl: config.status.fallbackUrl ?? config.messaging.variables.fallback_url ?? null,
  };
}

/**
 * The bytes of banner.json: the one rendering both the live route and every static target
 * publish, so they never disagree.
 */
export function renderBannerJson(summary: StatuspageDocuments['summary.json'], options: BannerOptions): Buffer {
  return Buffer.from(JSON.stringify(buildBanner(summary, options)));
}
