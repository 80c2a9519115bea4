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
    key: 'email.offline_order',
    channel: 'email',
    purpose: 'transactional',
    name: 'Offline purchase order (to sales)',
    description: 'Sent to the sales address (fallback.salesEmail) when a buyer submits the order form of the backup catalog.',
    subject: 'Offline order {{ reference }} from {{ company }}',
    body: `<p>A buyer placed an order through the backup catalog. Reference: <strong>{{ reference }}</strong>.</p>
<p>{{ company }}<br>{{ contact_name }}, {{ contact_email }}, phone: {{ contact_phone }}</p>
<p>Lines: {{ order_lines }}</p>
<p>{{ catalog_check }}</p>
<p>Notes from the buyer: {{ order_notes }}</p>
<p>{{ incident_note }} Sent from: {{ order_source }}</p>
<p>Confirm prices and delivery with the buyer, then mark the order in the console: <a href="{{ console_url }}">offline orders</a>.</p>`,
  },
  {
    key: 'email.offline_order_receipt',
    channel: 'email',
    purpose: 'transactional',
    name: 'Offline purchase order receipt (to the buyer)',
    description: 'Confirms to the buyer that the order from the backup catalog arrived, with its reference.',
    subject: 'We received your order {{ reference }}',
    body: `<p>Hello {{ first_name }},</p>
<p>Thank you: your order for {{ company }} has reached our sales team. Your reference is <strong>{{ reference }}</strong>.</p>
<p>What you ordered: {{ order_lines }}</p>
<p>We will confirm prices and delivery by email. If anything needs changing, reply with your reference.</p>`,
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
    key: 'email.spec_pack',
    channel: 'email',
    purpose: 'transactional',
    name: 'Spec pack and booking link (Tier B)',
    description: 'Warm leads during an outage: the spec pack from the backup catalog and a link to book time.',
    subject: '{{ first_name }}, the spec sheets you were looking at',
    body: `<p>Hi {{ first_name }},</p>
<p>Our online showroom is having trouble right now, so here is a shortcut to what you were evaluating.</p>
<p>Spec sheets, prices and the order form: <a href="{{ spec_pack_url }}">open the spec pack</a></p>
<p>Rather talk it through? <a href="{{ booking_url }}">Book a time with our team</a> and we will walk you through it live.</p>
<p>{{ sender_name }}<br>{{ company }}</p>`,
  },
  {
    key: 'email.outage_followup',
    channel: 'email',
    purpose: 'marketing',
    name: 'Second touch for Tier B leads',
    description: 'A day after the spec pack, if the lead has not answered: an offer of a live session.',
    subject: 'Still deciding, {{ first_name }}?',
    body: `<p>Hi {{ first_name }},</p>
<p>Yesterday we sent you the spec pack while our showroom was unavailable. If a question is holding you up, a short call is usually the quickest way through it.</p>
<p><a href="{{ booking_url }}">Pick a time that suits you</a>, or browse the spec sheets again: <a href="{{ spec_pack_url }}">spec pack</a>.</p>
<p>{{ sender_name }}<br>{{ company }}</p>`,
  },
  {
    key: 'email.nurture',
    channel: 'email',
    purpose: 'marketing',
    name: 'Nurture email (Tier C)',
    description: 'The rest of the pipeline during an outage: downloadable assets and a webinar invitation.',
    subject: 'Resources from {{ company }}',
    body: `<p>Hi {{ first_name }},</p>
<p>Our online showroom is temporarily unavailable. In the meantime, our product guides and drawings are ready to download: <a href="{{ assets_url }}">get the resources</a>.</p>
<p>We also run a regular live webinar where our specialists answer questions: <a href="{{ webinar_url }}">save your seat</a>.</p>
<p>{{ sender_name }}<br>{{ company }}</p>`,
  },
  {
    key: 'email.nurture_2',
    channel: 'email',
    purpose: 'marketing',
    name: 'Second nurture email (Tier C)',
    description: 'Three days after the first nurture email: a reminder of the webinar and the resources.',
    subject: 'A seat is waiting for you, {{ first_name }}',
    body: `<p>Hi {{ first_name }},</p>
<p>A reminder: our next live webinar is open to you, with time for your questions. <a href="{{ webinar_url }}">Reserve a seat</a>.</p>
<p>The guides and drawings remain available here: <a href="{{ assets_url }}">resources</a>.</p>
<p>{{ sender_name }}<br>{{ company }}</p>`,
  },
  {
    key: 'sms.reply_specs',
    channel: 'sms',
    purpose: 'transactional',
    name: 'SMS reply 1: spec pack',
    description: 'Answer to a lead who replied 1 to the outage SMS.',
    body: '{{ company }}: here are the spec sheets and prices: {{ spec_pack_url }}',
  },
  {
    key: 'sms.reply_booking',
    channel: 'sms',
    purpose: 'transactional',
    name: 'SMS reply 2: booking link',
    description: 'Answer to a lead who replied 2 to the outage SMS; their owner also gets a task.',
    body: '{{ company }}: book a time with our team here: {{ booking_url }} We will be in touch.',
  },
  {
    key: 'sms.reply_person',
    channel: 'sms',
    purpose: 'transactional',
    name: 'SMS reply: a person will answer',
    description: 'Answer to any other reply; their owner gets a task to follow up.',
    body: '{{ company }}: thanks, a member of our team will get back to you shortly.',
  },
  {
    key: 'chat.reply_specs',
    channel: 'chat',
    purpose: 'transactional',
    name: 'Chat answer 1: spec sheets',
    description: 'Chat widget: the spec sheets and price lists.',
    body: 'Here are the spec sheets and price lists: {{ spec_pack_url }}',
  },
  {
    key: 'chat.reply_demo',
    channel: 'chat',
    purpose: 'transactional',
    name: 'Chat answer 2: book a demo',
    description: 'Chat widget: the booking link for a live demo.',
    body: 'Book a live demo with our team at a time that suits you: {{ booking_url }}',
  },
  {
    key: 'chat.reply_comparison',
    channel: 'chat',
    purpose: 'transactional',
    name: 'Chat answer 3: comparison',
    description: 'Chat widget: the side-by-side comparison.',
    body: 'Compare our products side by side here: {{ comparison_url }}',
  },
  {
    key: 'chat.reply_person',
    channel: 'chat',
    purpose: 'transactional',
    name: 'Chat answer: a person will answer',
    description: 'Chat widget: free text from a known lead; their owner gets a task.',
    body: 'Thanks, a member of our team will get back to you shortly. Meanwhile, reply 1, 2 or 3 for the menu.',
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
  // Update cadence (src/status/cadence): reminders, escalation, the holding update.
  {
    key: 'slack.cadence_reminder',
    channel: 'slack',
    purpose: 'transactional',
    name: 'Cadence reminder (internal)',
    description: 'Tells the commander a public update is due soon.',
    body: `Reminder: the next public update on *{{ incident_name }}* ({{ status }}) is due by {{ due_at | date: "%H:%M UTC" }}.
Draft and publish it here: {{ console_url }}`,
  },
  {
    key: 'slack.cadence_escalation',
    channel: 'slack',
    purpose: 'transactional',
    name: 'Cadence escalation (internal)',
    description: 'A public update deadline passed with nothing published: calls in the backup role.',
    body: `Escalation for the {{ backup_role }} on call: *{{ incident_name }}* ({{ status }}) had a public update due by {{ due_at | date: "%H:%M UTC" }} and nothing was published.
Please post an update or take over: {{ console_url }}`,
  },
  {
    key: 'email.cadence_escalation',
    channel: 'email',
    purpose: 'transactional',
    name: 'Cadence escalation email (internal)',
    description: 'Sent to every user with the backup role when an update deadline passes.',
    subject: 'Overdue: public update on {{ incident_name }}',
    body: `<p>A public update on <strong>{{ incident_name }}</strong> ({{ status }}) was due by {{ due_at | date: "%H:%M UTC on %b %-d" }} and nothing has been published.</p>
<p>You receive this as {{ backup_role }}. Please post an update or take over the incident:</p>
<p><a href="{{ console_url }}">{{ console_url }}</a></p>`,
  },
  {
    key: 'status.holding_update',
    channel: 'status',
    purpose: 'transactional',
    name: 'Holding update',
    description: 'Published automatically at an update deadline when nobody has written one (if holding updates are on).',
    body: `We are still working on {{ incident_name }} and have nothing new to confirm yet. Our team remains on it.

Meanwhile the catalog, spec sheets and order form are available at {{ fallback_url }}.

Next update by {{ next_update_at | date: "%H:%M UTC" }}.`,
  },
  // Incident report deadline (src/reports): a reminder before it, an escalation when it passes.
  {
    key: 'slack.report_reminder',
    channel: 'slack',
    purpose: 'transactional',
    name: 'Incident report reminder (internal)',
    description: 'Tells the team the incident report is due soon and not published yet.',
    body: `Reminder: the incident report for *{{ incident_name }}* is due by {{ due_at | date: "%H:%M UTC on %b %-d" }} and is not published yet.
Write the root cause and actions and publish it here: {{ console_url }}`,
  },
  {
    key: 'slack.report_escalation',
    channel: 'slack',
    purpose: 'transactional',
    name: 'Incident report escalation (internal)',
    description: 'The incident report deadline passed with no report published: calls in the backup role.',
    body: `Escalation for the {{ backup_role }} on call: the incident report for *{{ incident_name }}* was due by {{ due_at | date: "%H:%M UTC on %b %-d" }} and is still not published.
Please finish and publish it: {{ console_url }}`,
  },
  {
    key: 'email.report_escalation',
    channel: 'email',
    purpose: 'transactional',
    name: 'Incident report escalation email (internal)',
    description: 'Sent to every user with the backup role when the incident report deadline passes.',
    subject: 'Overdue: incident report for {{ incident_name }}',
    body: `<p>The incident report for <strong>{{ incident_name }}</strong> was due by {{ due_at | date: "%H:%M UTC on %b %-d" }} and has not been published.</p>
<p>You receive this as {{ backup_role }}. Please finish the root cause and actions and publish it:</p>
<p><a href="{{ console_url }}">{{ console_url }}</a></p>`,
  },
  // Draft skeletons (src/status/drafter): a first draft the commander edits before publishing.
  {
    key: 'status.draft_investigating',
    channel: 'status',
    purpose: 'transactional',
    name: 'Draft: investigating',
    description: 'Skeleton of an update while the cause is being looked for.',
    body: `We are looking into {{ incident_name }}. Affected: {{ components_summary }}, for {{ scope_summary }}, since {{ duration }} ago.
{{ changes_summary }}
The catalog, spec sheets and order form are available at {{ fallback_url }}. Next update by {{ next_update_at | date: "%H:%M UTC" }}.`,
  },
  {
    key: 'status.draft_identified',
    channel: 'status',
    purpose: 'transactional',
    name: 'Draft: identified',
    description: 'Skeleton of an update once the cause is known.',
    body: `We have found the cause of {{ incident_name }} and are working on a fix. Affected: {{ components_summary }}, for {{ scope_summary }}, since {{ duration }} ago.
{{ changes_summary }}
Until then the catalog, spec sheets and order form are available at {{ fallback_url }}. Next update by {{ next_update_at | date: "%H:%M UTC" }}.`,
  },
  {
    key: 'status.draft_monitoring',
    channel: 'status',
    purpose: 'transactional',
    name: 'Draft: monitoring',
    description: 'Skeleton of an update once a fix is in place and being watched.',
    body: `A fix for {{ incident_name }} is in place and we are watching the results. Current state: {{ components_summary }}, for {{ scope_summary }}.
{{ changes_summary }}
If anything still fails, the catalog, spec sheets and order form are at {{ fallback_url }}. Next update by {{ next_update_at | date: "%H:%M UTC" }}.`,
  },
  {
    key: 'status.draft_resolved',
    channel: 'status',
    purpose: 'transactional',
    name: 'Draft: resolved',
    description: 'Skeleton of the resolution notice.',
    body: `{{ incident_name }} is resolved: {{ component_names }} work normally again, after {{ duration }}.
{{ changes_summary }}
Thank you for your patience while it lasted.`,
  },
  // Status subscribers (src/status/subscribers): confirmation and the updates they asked for.
  {
    key: 'sms.subscribe_code',
    channel: 'sms',
    purpose: 'transactional',
    name: 'Status subscription code',
    description: 'The 6-digit code that confirms an SMS status subscription.',
    body: '{{ company }} status alerts: your code is {{ code }}. It expires in 15 minutes. If you did not ask for it, ignore this text.',
  },
  {
    key: 'email.status_update',
    channel: 'email',
    purpose: 'transactional',
    name: 'Status update for subscribers',
    description: 'Each public update, to people who subscribed on the status page.',
    subject: '[{{ company }} status] {{ incident_name }}: {{ status }}',
    body: `<p><strong>{{ incident_name }}</strong> is now <strong>{{ status }}</strong>.</p>
<p>{{ message }}</p>
<p>Affected: {{ components }}</p>
<p>Follow it live on our status page: <a href="{{ status_page_url }}">{{ status_page_url }}</a></p>
<p>You receive this because you subscribed to {{ company }} status updates. <a href="{{ unsubscribe_url }}">Unsubscribe</a></p>`,
  },
  {
    key: 'sms.status_update',
    channel: 'sms',
    purpose: 'transactional',
    name: 'Status update SMS for subscribers',
    description: 'Short notice of each public update to SMS subscribers; details stay on the status page.',
    body: '{{ company }} status: {{ incident_name | truncate: 50 }} is {{ status }}. {{ status_page_url }} Reply STOP to opt out.',
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
  due_at: '2026-01-15T10:15:00.000Z',
  console_url: 'https://status.northwind.example/console/incidents/sample',
  backup_role: 'admin',
  components_summary: 'Product API (major outage), Showroom CDN (degraded performance)',
  component_names: 'Product API and Showroom CDN',
  scope_summary: 'all regions',
  duration: '25 min',
  changes_summary: 'Since our last update, Product API went from partial outage to major outage.',
  code: '482913',
  components: 'Product API, Showroom CDN',
  status_page_url: 'https://status.northwind.example/status',
  spec_pack_url: 'https://status.northwind.example/r/sample-spec',
  booking_url: 'https://status.northwind.example/r/sample-booking',
  comparison_url: 'https://catalog.northwind.example/compare',
  assets_url: 'https://northwind.example/resources',
  webinar_url: 'https://northwind.example/webinar',
  reference: 'KW-7K3M-Q9TD',
  contact_name: 'Dana Reyes',
  contact_email: 'dana@buyer.example',
  contact_phone: '+1 555 0100',
  order_lines: '12 x CH-100: Task chair (in catalog); 3 x DK-220: Standing desk (in catalog)',
  catalog_check: 'Every SKU is in the current catalog.',
  order_notes: 'Deliver to the loading dock.',
  incident_note: 'Received during the incident "Product pages unavailable".',
  order_source: 'https://catalog.northwind.example/order/',
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
