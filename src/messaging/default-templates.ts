/**
 * The default template library, seeded into the database so legal can review it before the
 * first outage. The wording is Keepwarm's own. Placeholders: first_name, company, fallback_url,
 * calendar_link, sender_name, support_email, incident_name, status, message, next_update_at,
 * confirm_url. SMS wording stays inside GSM-7 and one 160-character part with typical values.
 */
import type { Actor } from '../app/actor.js';
import { recordAudit } from '../audit/audit.repo.js';
import type { Clock } from '../core/clock.js';
import { newId } from '../core/ids.js';
import type { Database } from '../db/database.js';
import type { Purpose, TemplateChannel } from './messaging.js';
import * as repo from './templates.repo.js';

export const DEFAULT_LOCALE = 'en';

export interface DefaultTemplate {
  key: string;
  channel: TemplateChannel;
  purpose: Purpose;
  name: string;
  description: string;
  subject?: string;
  body: string;
}

export const DEFAULT_TEMPLATES: readonly DefaultTemplate[] = [
  {
    key: 'status.notice',
    channel: 'status',
    purpose: 'transactional',
    name: 'Status page notice',
    description: 'The incident text on the public status page.',
    body: `{{ incident_name }}: {{ status | capitalize }}

{{ message }}

While we work on it, the catalog, spec sheets and order form stay available at {{ fallback_url }}.

Next update by {{ next_update_at | date: "%H:%M UTC" }}.`,
  },
  {
    key: 'banner.notice',
    channel: 'banner',
    purpose: 'transactional',
    name: 'Website banner',
    description: 'One line shown on top of the showroom while something is broken.',
    body: 'Parts of our showroom are not loading right now ({{ incident_name }}). The full catalog and spec sheets are here: {{ fallback_url }}',
  },
  {
    key: 'email.initial_ack',
    channel: 'email',
    purpose: 'transactional',
    name: 'First email to affected leads and customers',
    description: 'Sent within minutes: we know, we are on it, here is the catalog meanwhile.',
    subject: '{{ company }}: parts of our online showroom are down',
    body: `<p>Hi {{ first_name }},</p>
<p>We would rather you hear it from us first: parts of the {{ company }} online showroom stopped loading a few minutes ago. Our team is already working on it.</p>
<p>You do not have to wait for us. Prices, spec sheets and the order form are in a lightweight copy of the catalog that is not affected:</p>
<p><a href="{{ fallback_url }}">{{ fallback_url }}</a></p>
<p>If you have a question or a deadline, reply to this email or write to <a href="mailto:{{ support_email }}">{{ support_email }}</a>. A person will answer.</p>
<p>{{ sender_name }}<br>{{ company }}</p>`,
  },
  {
    key: 'email.hourly_update',
    channel: 'email',
    purpose: 'transactional',
    name: 'Progress update email',
    description: 'The regular update while the incident lasts; same facts as the status page.',
    subject: 'Update: {{ incident_name }} ({{ status }})',
    body: `<p>Here is where things stand with <strong>{{ incident_name }}</strong>.</p>
<p>Status: <strong>{{ status | capitalize }}</strong></p>
<p>{{ message }}</p>
<p>The catalog, spec sheets and order form remain available at <a href="{{ fallback_url }}">{{ fallback_url }}</a>.</p>
<p>Our next update arrives by {{ next_update_at | date: "%H:%M UTC on %b %-d" }}, sooner if anything changes.</p>
<p>{{ company }}</p>`,
  },
  {
    key: 'email.resolved',
    channel: 'email',
    purpose: 'transactional',
    name: 'Resolution email',
    description: 'Sent when the incident is resolved.',
    subject: 'Resolved: {{ incident_name }}',
    body: `<p>Hi {{ first_name }},</p>
<p>{{ incident_name }} is resolved: the {{ company }} online showroom works normally again. Thank you for bearing with us while it was down.</p>
<p>If anything still looks wrong on your side, reply to this email or write to <a href="mailto:{{ support_email }}">{{ support_email }}</a> and we will look at it straight away.</p>
<p>{{ sender_name }}<br>{{ company }}</p>`,
  },
  {
    key: 'email.followup',
    channel: 'email',
    purpose: 'marketing',
    name: 'Follow-up after the incident',
    description: 'A personal note from the account owner once the showroom is back, offering a live session.',
    subject: '{{ first_name }}, picking up where we left off',
    body: `<p>Hi {{ first_name }},</p>
<p>Sorry again that our showroom let you down earlier. Everything is back to normal, and I would be glad to make up for the lost time.</p>
<p>If it helps, I can walk you through the products you were looking at in a short live session, at a time that suits you: <a href="{{ calendar_link }}">pick a time</a>.</p>
<p>Best regards,<br>{{ sender_name }}<br>{{ company }}</p>`,
  },
  {
    key: 'email.subscription_confirm',
    channel: 'email',
    purpose: 'transactional',
    name: 'Confirm a status subscription',
    description: 'Double opt-in for status update emails.',
    subject: 'Confirm your {{ company }} status updates',
    body: `<p>Someone, hopefully you, asked to receive status updates from {{ company }} at this address.</p>
<p><a href="{{ confirm_url }}">Confirm the subscription</a></p>
<p>If it was not you, ignore this email and nothing more will be sent.</p>`,
  },
  {
    key: 'sms.high_intent',
    channel: 'sms',
    purpose: 'marketing',
    name: 'SMS to high-intent leads',
    description: 'Tier B leads: the showroom is down, reply 1 for specs or 2 to book time.',
    body: '{{ company }}: Hi {{ first_name }}, our online showroom is down for now. Reply 1 for specs, 2 to book time with our team. Reply STOP to opt out.',
  },
  {
    key: 'sms.update',
    channel: 'sms',
    purpose: 'transactional',
    name: 'SMS progress update',
    description: 'Short update for SMS subscribers; the message itself stays on the status page.',
    body: '{{ company }}: {{ incident_name }} - {{ status }}. Catalog: {{ fallback_url }} Next update by {{ next_update_at | date: "%H:%M" }} UTC.',
  },
  {
    key: 'sms.help',
    channel: 'sms',
    purpose: 'transactional',
    name: 'Answer to HELP',
    description: 'Sent when someone texts HELP.',
    body: '{{ company }} outage alerts. Catalog: {{ fallback_url }} Help: {{ support_email }}. Reply STOP to opt out. Msg&data rates may apply.',
  },
  {
    key: 'sms.stop_confirmation',
    channel: 'sms',
    purpose: 'transactional',
    name: 'Answer to STOP',
    description: 'Confirms an opt-out; the only text sent after STOP.',
    body: '{{ company }}: you are unsubscribed and will get no more texts from us. Reply START to opt back in.',
  },
  {
    key: 'call.script',
    channel: 'call',
    purpose: 'transactional',
    name: 'Sales call script',
    description: 'For account owners calling Tier A leads during the outage.',
    body: `Call script: {{ incident_name }}

Opening
"Hi {{ first_name }}, this is {{ sender_name }} from {{ company }}. Our online showroom is having problems right now, and I did not want that to slow you down."

If they were in the middle of an evaluation
- Offer the spec sheets and price list from the backup catalog: {{ fallback_url }}
- Offer a live walkthrough instead of the showroom: {{ calendar_link }}

If they have a deadline
- Write down what they need and by when; promise a written answer today.

Closing
"Thanks for your patience. I will email you the catalog link now so you have it in writing."

Afterwards: log the outcome on the lead.`,
  },
  {
    key: 'chat.menu',
    channel: 'chat',
    purpose: 'transactional',
    name: 'Chat fallback menu',
    description: 'What the chat widget offers while the showroom is down.',
    body: `{{ company }} here. Our showroom is having trouble loading, but we can still help. Reply with a number:
1 - Spec sheets and price lists
2 - Book a live demo with our team
3 - Compare products side by side
Or browse the catalog: {{ fallback_url }}`,
  },
  {
    key: 'social.post',
    channel: 'social',
    purpose: 'transactional',
    name: 'Social post',
    description: 'Public post on Mastodon (or similar) for each update.',
    body: `{{ incident_name }}: {{ status | capitalize }}. {{ message | truncate: 280 }}
Catalog and spec sheets: {{ fallback_url }}
Next update by {{ next_update_at | date: "%H:%M UTC" }}.`,
  },
  {
    key: 'slack.update',
    channel: 'slack',
    purpose: 'transactional',
    name: 'Internal Slack update',
    description: 'Keeps sales and support in the loop with the same facts as the public update.',
    body: `*{{ incident_name }}* is *{{ status }}*
{{ message }}
Fallback catalog: {{ fallback_url }}
Next public update due {{ next_update_at | date: "%H:%M UTC" }}`,
  },
];

/** Values for previews and for checking the library's lengths: what a typical send carries. */
export const SAMPLE_VARIABLES: Readonly<Record<string, string>> = {
  first_name: 'Dana',
  company: 'Northwind Fixtures',
  fallback_url: 'https://catalog.northwind.example',
  calendar_link: 'https://meet.northwind.example/sam',
  sender_name: 'Sam Rivera',
  support_email: 'help@northwind.example',
  incident_name: 'Product pages unavailable',
  status: 'investigating',
  message: 'Product pages and the 3D configurator are not loading for some visitors. We are moving traffic to our backup CDN.',
  next_update_at: '2026-01-15T10:30:00.000Z',
  confirm_url: 'https://status.northwind.example/confirm/sample',
  unsubscribe_url: 'https://status.northwind.example/u/sample',
};

const SEED_ACTOR: Actor = { type: 'system', id: null, name: 'Keepwarm default library', role: 'admin', ip: null };

export interface SeedResult {
  created: string[];
  existing: string[];
}

/**
 * Insert every default template that is missing (by key and locale), as version 1 awaiting
 * legal review — or approved, for the demo. Existing templates are never touched, edited or not,
 * so running it again is harmless.
 */
export async function seedDefaultTemplates(db: Database, clock: Clock, options: { approve: boolean }): Promise<SeedResult> {
  const now = clock.now();
  const result: SeedResult = { created: [], existing: [] };
  await db.tx(async (trx) => {
    for (const t of DEFAULT_TEMPLATES) {
      const id = newId(now);
      const inserted = await repo.insertTemplate(trx, {
        id,
        key: t.key,
        locale: DEFAULT_LOCALE,
        channel: t.channel,
        purpose: t.purpose,
        name: t.name,
        description: t.description,
        created_at: now,
        updated_at: now,
      });
      if (!inserted) {
        result.existing.push(t.key);
        continue;
      }
      await repo.insertVersion(trx, {
        ...repo.draftVersionRow({
          templateId: id,
          version: 1,
          subject: t.subject ?? null,
          body: t.body,
          author: SEED_ACTOR.name,
          now,
        }),
        state: options.approve ? 'approved' : 'in_review',
        submitted_by: SEED_ACTOR.name,
        submitted_at: now,
        approved_by: options.approve ? SEED_ACTOR.name : null,
        approved_at: options.approve ? now : null,
        review_note: options.approve ? 'Approved by the demo seed, without legal review.' : null,
      });
      await recordAudit(trx, {
        at: now,
        actor: SEED_ACTOR,
        action: 'template.seed',
        target: { type: 'template', id },
        details: { key: t.key, locale: DEFAULT_LOCALE, state: options.approve ? 'approved' : 'in_review' },
      });
      result.created.push(t.key);
    }
  });
  return result;
}
