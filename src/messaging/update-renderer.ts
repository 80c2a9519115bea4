/**
 * One update, every channel. A single facts object (incident, status, message, fallback URL,
 * next update time) renders the approved template of every public and internal channel, so the
 * wording may differ per channel but the facts cannot. A channel whose template is missing,
 * unapproved or fails to render is reported in the result, never thrown at the caller: the
 * other channels still go out.
 */
import { AppError } from '../core/errors.js';
import { type ChannelFacts, channelFacts, type RenderSource, templateVariables } from './render.js';
import type { ApprovedTemplate, RenderedContent } from './templates.contract.js';

export const UPDATE_TEMPLATE_KEYS = [
  'status.notice',
  'banner.notice',
  'email.hourly_update',
  'sms.update',
  'social.post',
  'slack.update',
] as const;

export const UPDATE_FACT_NAMES = ['incident_name', 'status', 'message', 'fallback_url', 'next_update_at'] as const;

export interface UpdateFacts {
  incident_name: string;
  /** Statuspage vocabulary: investigating, identified, monitoring, resolved, postmortem. */
  status: string;
  message: string;
  fallback_url: string;
  /** ISO-8601 UTC. */
  next_update_at: string;
}

export type ChannelRendering =
  | {
      key: string;
      ok: true;
      channel: ApprovedTemplate['channel'];
      version: number;
      versionId: string;
      content: RenderedContent;
      facts: ChannelFacts;
      /** Which of the update's facts this channel's wording shows. */
      factsShown: string[];
    }
  | { key: string; ok: false; error: { code: string; message: string; details?: unknown } };

export interface UpdateRendering {
  facts: UpdateFacts;
  channels: ChannelRendering[];
}

export interface UpdateRendererDeps {
  /** The approved template for a key (throws an AppError when there is none). */
  lookup(key: string): Promise<ApprovedTemplate>;
  render(template: RenderSource, variables: Record<string, unknown>): RenderedContent;
}

/**
 * Render every update channel from one set of facts. `defaults` (company, sender name, …) fill
 * in what the facts do not say; a fact always wins over a default of the same name.
 */
export async function renderUpdate(
  deps: UpdateRendererDeps,
  facts: UpdateFacts,
  options: { defaults?: Record<string, string>; socialLimit: number; keys?: readonly string[] },
): Promise<UpdateRendering> {
  const variables: Record<string, unknown> = { ...options.defaults, ...facts };
  const channels: ChannelRendering[] = [];
  for (const key of options.keys ?? UPDATE_TEMPLATE_KEYS) {
    try {
      const template = await deps.lookup(key);
      const content = deps.render(template, variables);
      const used = new Set(templateVariables(template));
      channels.push({
        key,
        ok: true,
        channel: template.channel,
        version: template.version,
        versionId: template.versionId,
        content,
        facts: channelFacts(template.channel, content, { socialLimit: options.socialLimit }),
        factsShown: UPDATE_FACT_NAMES.filter((name) => used.has(name)),
      });
    } catch (err) {
      // A user-level problem (no approved template, a variable missing) is this channel's news;
      // anything else (the database gone) is the caller's.
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      channels.push({
        key,
        ok: false,
        error: { code: err.code, message: err.message, ...(err.details !== undefined && { details: err.details }) },
      });
    }
  }
  return { facts, channels };
}
