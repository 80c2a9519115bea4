import type { Executor } from '../db/database.js';
import type { Purpose, TemplateChannel } from './messaging.js';

/** The approved version of a template: the only thing that is ever dispatched. */
export interface ApprovedTemplate {
  templateId: string;
  key: string;
  locale: string;
  channel: TemplateChannel;
  purpose: Purpose;
  versionId: string;
  version: number;
  subject: string | null;
  body: string;
}

export interface RenderedContent {
  subject?: string | undefined;
  text: string;
  html?: string | undefined;
}

/** What the outbox needs from the template library. */
export interface TemplateSource {
  /** The approved version for a key (falling back to the default locale), or a 422 naming the key. */
  requireApproved(ex: Executor, key: string, locale?: string): Promise<ApprovedTemplate>;
  /**
   * Render an approved template with variables. A missing or empty placeholder is refused with an
   * AppError (422, code "render_failed") naming it; nothing containing "{{" is ever returned.
   * Marketing email gets the unsubscribe link and postal address footer (`footer`).
   */
  render(
    template: ApprovedTemplate,
    variables: Record<string, unknown>,
    footer?: { unsubscribeUrl: string; postalAddress: string },
  ): RenderedContent;
}
