import { describe, expect, test } from 'vitest';
import { AppError } from '../core/errors.js';
import { DEFAULT_TEMPLATES, SAMPLE_VARIABLES } from './default-templates.js';
import {
  channelFacts,
  type RenderSource,
  renderTemplate,
  socialLength,
  syntaxProblems,
  templateVariables,
  textPartFromHtml,
} from './render.js';

let n = 0;
function source(partial: Partial<RenderSource> & Pick<RenderSource, 'channel' | 'body'>): RenderSource {
  return { versionId: `test-${++n}`, key: `${partial.channel}.test`, purpose: 'transactional', subject: null, ...partial };
}

function refusal(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

const email = source({
  channel: 'email',
  subject: '{{ company }}: hello {{ first_name }}',
  body: '<p>Hi {{ first_name }},</p>\n<p>See <a href="{{ fallback_url }}">the catalog</a> or write to {{ support_email }}.</p>',
});

describe('strict variables', () => {
  test('every missing or empty placeholder is named, before anything renders', () => {
    const err = refusal(() => renderTemplate(email, { first_name: '', company: 'Northwind', support_email: '   ' }));
    expect(err.status).toBe(422);
    expect(err.code).toBe('render_failed');
    expect(err.details).toEqual({ template: 'email.test', missing: ['first_name', 'fallback_url', 'support_email'] });
    expect(err.message).toContain('first_name, fallback_url, support_email');
    expect(
      refusal(() => renderTemplate(email, { first_name: null, company: 'x', fallback_url: 'u', support_email: 's' })).details,
    ).toMatchObject({
      missing: ['first_name'],
    });
  });

  test('nested paths are checked to the leaf', () => {
    const t = source({ channel: 'sms', body: 'Hi {{ lead.first_name }} at {{ lead.company }}' });
    expect(templateVariables(t)).toEqual(['lead.first_name', 'lead.company']);
    const err = refusal(() => renderTemplate(t, { lead: { first_name: 'Dana' } }));
    expect(err.details).toMatchObject({ missing: ['lead.company'] });
    expect(renderTemplate(t, { lead: { first_name: 'Dana', company: 'Acme' } }).text).toBe('Hi Dana at Acme');
  });

  test('variables defined inside the template are not required', () => {
    const t = source({
      channel: 'chat',
      body: '{% assign who = first_name | upcase %}{{ who }}{% for o in options %} {{ o }}{% endfor %}',
    });
    expect(templateVariables(t)).toEqual(['first_name', 'options']);
    expect(renderTemplate(t, { first_name: 'dana', options: ['1', '2'] }).text).toBe('DANA 1 2');
  });

  test('unknown filters, include/render and syntax errors are refused when the template is saved', () => {
    expect(syntaxProblems('sms', null, 'Hi {{ first_name | shout }}')[0]?.message).toMatch(/undefined filter: shout/);
    expect(syntaxProblems('sms', null, '{% include "secrets" %}')[0]?.message).toMatch(/cannot include/);
    expect(syntaxProblems('sms', null, 'Hi {{ first_name ')[0]?.message).toMatch(/not closed/);
    expect(syntaxProblems('email', '{{ a', '<p>x</p>')[0]).toMatchObject({ field: 'subject' });
    expect(syntaxProblems('email', 'ok', '<p>{{ first_name | raw }}</p>')[0]?.message).toMatch(/raw is not available/);
    // Plain-text channels may use raw: nothing is escaped there anyway.
    expect(syntaxProblems('sms', null, '{{ first_name | raw }}')).toEqual([]);
  });
});

describe('nothing with template syntax leaves', () => {
  test('a value carrying "{{" or "{%" is refused, naming the variable', () => {
    const vars = { first_name: 'Dana', company: 'Acme {{ evil }}', fallback_url: 'https://x.test', support_email: 'a@b.test' };
    const err = refusal(() => renderTemplate(email, vars));
    expect(err.code).toBe('render_failed');
    expect(err.details).toMatchObject({ template_syntax_in: ['company'] });
    expect(err.message).toContain('company');
    const sms = source({ channel: 'sms', body: 'Hi {{ first_name }}' });
    expect(refusal(() => renderTemplate(sms, { first_name: '{% raw %}' })).details).toMatchObject({
      template_syntax_in: ['first_name'],
    });
  });

  test('literal template syntax produced by the template itself is refused too', () => {
    const t = source({ channel: 'sms', body: 'Use {% raw %}{{ this }}{% endraw %}' });
    expect(refusal(() => renderTemplate(t, {})).message).toMatch(/renders text containing/);
  });
});

describe('HTML email', () => {
  test('every variable is escaped in the HTML part; subject and text are plain', () => {
    const vars = {
      first_name: '<script>alert(1)</script>',
      company: 'Smith & Sons',
      fallback_url: 'https://x.test/?a=1&b="2"><img src=x onerror=alert(1)>',
      support_email: "o'brien@x.test",
    };
    const out = renderTemplate(email, vars);
    expect(out.html).toContain('<p>Hi &lt;script&gt;alert(1)&lt;/script&gt;,</p>');
    expect(out.html).toContain('href="https://x.test/?a=1&amp;b=&quot;2&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"');
    expect(out.html).toContain('o&#39;brien@x.test');
    expect(out.html).not.toContain('<script>');
    expect(out.html).not.toContain('<img');
    expect(out.subject).toBe('Smith & Sons: hello <script>alert(1)</script>');
    const injected = renderTemplate(email, { ...vars, first_name: 'Dana\r\nBcc: victim@x.test' });
    expect(injected.subject).toBe('Smith & Sons: hello Dana Bcc: victim@x.test');
    expect(out.text).toContain('Hi <script>alert(1)</script>,');
    expect(out.text).toContain('the catalog [https://x.test/?a=1&b="2"><img src=x onerror=alert(1)>]');
  });

  test('the plain-text part is generated from the HTML', () => {
    const out = renderTemplate(email, {
      first_name: 'Dana',
      company: 'Acme',
      fallback_url: 'https://x.test/c',
      support_email: 'help@x.test',
    });
    expect(out.text).toBe('Hi Dana,\n\nSee the catalog [https://x.test/c] or write to help@x.test.');
    expect(out.text).toBe(textPartFromHtml(out.html as string));
  });

  test('marketing email gets the unsubscribe link and postal address in both parts; transactional does not', () => {
    const marketing = { ...email, versionId: 'marketing-1', purpose: 'marketing' as const };
    const vars = { first_name: 'Dana', company: 'Acme', fallback_url: 'https://x.test/c', support_email: 'help@x.test' };
    const footer = { unsubscribeUrl: 'https://status.x.test/u/tok?a=1&b=2', postalAddress: 'Acme & Co, 1 Main St, Springfield' };
    const out = renderTemplate(marketing, vars, footer);
    expect(out.html).toContain('<a href="https://status.x.test/u/tok?a=1&amp;b=2">Unsubscribe</a>');
    expect(out.html).toContain('Acme &amp; Co, 1 Main St, Springfield');
    expect(out.text).toContain('Unsubscribe with one click: https://status.x.test/u/tok?a=1&b=2');
    expect(out.text.endsWith('Acme & Co, 1 Main St, Springfield')).toBe(true);
    const transactional = renderTemplate(email, vars, footer);
    expect(transactional.html).not.toContain('Unsubscribe');
    expect(transactional.text).not.toContain('Unsubscribe');
  });

  test('the footer goes inside <body> of a full document', () => {
    const doc = source({
      channel: 'email',
      purpose: 'marketing',
      subject: 'Hi',
      body: '<html><body><p>Hello {{ first_name }}</p></body></html>',
    });
    const out = renderTemplate(doc, { first_name: 'Dana' }, { unsubscribeUrl: 'https://u.test/x', postalAddress: '1 Main St' });
    expect(out.html).toMatch(/<p>Hello Dana<\/p>\n<hr>[\s\S]*1 Main St<\/p>\n<\/body><\/html>$/);
  });

  test('the text part equals converting the rendered HTML, whatever the values (fast path and slow path agree)', () => {
    const tricky = [
      SAMPLE_VARIABLES,
      {
        ...SAMPLE_VARIABLES,
        first_name: '  Dana \n\n Smith  ',
        company: 'A&B <Fixtures> "Ltd"',
        message: 'Line one.\n\nLine two   with   spaces & <tags>.',
        sender_name: "Sam O'Neil",
        fallback_url: 'https://catalog.example/?q=a&b=c',
      },
    ];
    for (const t of DEFAULT_TEMPLATES.filter((d) => d.channel === 'email')) {
      for (const [i, vars] of tricky.entries()) {
        const src = source({ channel: 'email', purpose: t.purpose, subject: t.subject ?? null, body: t.body, key: t.key });
        const out = renderTemplate(src, vars);
        expect(out.text, `${t.key} #${i}`).toBe(textPartFromHtml(out.html as string));
      }
    }
    // Templates with tags take the slow path and still produce a text part.
    const withTags = source({
      channel: 'email',
      subject: 'x',
      body: '<p>Hi {{ first_name }}</p>{% if vip %}<p>VIP</p>{% endif %}<table><tr><th>{{ first_name }}</th></tr></table>',
    });
    const out = renderTemplate(withTags, { first_name: 'Dana', vip: true });
    expect(out.text).toBe(textPartFromHtml(out.html as string));
    expect(out.text).toContain('VIP');
  });

  test('the parse cache follows a draft whose text changes under the same version id', () => {
    const a = source({ channel: 'sms', body: 'one {{ x }}' });
    expect(renderTemplate(a, { x: '1' }).text).toBe('one 1');
    expect(renderTemplate({ ...a, body: 'two {{ x }}' }, { x: '1' }).text).toBe('two 1');
  });

  test('dates print in UTC', () => {
    const t = source({ channel: 'status', body: 'Next update by {{ at | date: "%H:%M UTC on %b %-d" }}' });
    expect(renderTemplate(t, { at: '2026-01-15T22:30:00.000Z' }).text).toBe('Next update by 22:30 UTC on Jan 15');
  });
});

describe('channel facts', () => {
  test('SMS: encoding, parts and what forced UCS-2', () => {
    const facts = channelFacts('sms', { text: 'We’re back' });
    expect(facts.sms?.encoding).toBe('UCS-2');
    expect(facts.warnings[0]).toBe("UCS-2 because of U+2019 ’: 10 code units (limit 70), 1 part. To send GSM-7: U+2019 ’ → '.");
    expect(channelFacts('sms', { text: 'Hi\u00a0there 🎉' }).warnings[0]).toMatch(
      /U\+00A0 \u00a0 → a plain space; U\+1F389 🎉 has no GSM-7 equivalent/,
    );
    expect(channelFacts('sms', { text: 'a'.repeat(200) }).warnings[0]).toMatch(/billed for 2 messages/);
    expect(channelFacts('sms', { text: 'short' }).warnings).toEqual([]);
  });

  test('social: length against the limit, links count 23', () => {
    expect(socialLength(`Read https://example.com/${'x'.repeat(100)} now`)).toEqual({ length: 5 + 23 + 4, links: 1 });
    const over = channelFacts('social', { text: 'a'.repeat(510) }, { socialLimit: 500 });
    expect(over.social).toMatchObject({ length: 510, limit: 500, over_by: 10, remaining: 0 });
    expect(over.warnings[0]).toMatch(/10 over/);
  });

  test('email: subject length', () => {
    const long = channelFacts('email', { subject: 's'.repeat(90), text: 'x', html: '<p>x</p>' });
    expect(long.email).toMatchObject({ subject_length: 90, subject_advice: 78 });
    expect(long.warnings[0]).toMatch(/subject is 90 characters/);
  });
});

describe('the default library', () => {
  const rendered = DEFAULT_TEMPLATES.map((t) => ({
    t,
    out: renderTemplate(
      source({ channel: t.channel, purpose: t.purpose, subject: t.subject ?? null, body: t.body, key: t.key }),
      SAMPLE_VARIABLES,
      t.purpose === 'marketing' && t.channel === 'email'
        ? { unsubscribeUrl: 'https://u.test/x', postalAddress: '1 Main St' }
        : undefined,
    ),
  }));

  test('covers the design’s list', () => {
    const keys = DEFAULT_TEMPLATES.map((t) => t.key);
    for (const key of [
      'status.notice',
      'banner.notice',
      'email.initial_ack',
      'sms.high_intent',
      'call.script',
      'chat.menu',
      'social.post',
      'email.hourly_update',
      'email.resolved',
      'email.followup',
      'sms.update',
      'sms.help',
      'sms.stop_confirmation',
      'slack.update',
    ]) {
      expect(keys).toContain(key);
    }
    expect(new Set(keys).size).toBe(keys.length);
    expect(DEFAULT_TEMPLATES.find((t) => t.key === 'email.followup')?.purpose).toBe('marketing');
    expect(DEFAULT_TEMPLATES.find((t) => t.key === 'sms.high_intent')?.purpose).toBe('marketing');
    expect(DEFAULT_TEMPLATES.find((t) => t.key === 'sms.high_intent')?.body).toMatch(/1 for specs, 2 to book/);
    expect(DEFAULT_TEMPLATES.find((t) => t.key === 'chat.menu')?.body).toMatch(/Spec sheets[\s\S]*demo[\s\S]*Compare/);
  });

  test('every template renders with typical values, nothing left unrendered', () => {
    for (const { t, out } of rendered) {
      expect(out.text.length, t.key).toBeGreaterThan(20);
      expect(`${out.subject ?? ''}${out.text}${out.html ?? ''}`, t.key).not.toMatch(/\{\{|\{%|\}\}/);
      expect(contentOk(t.channel, out.subject), t.key).toBe(true);
    }
  });

  test('SMS wording stays GSM-7 in one part; banner, social and subjects fit', () => {
    for (const { t, out } of rendered) {
      const facts = channelFacts(t.channel, out, { socialLimit: 500 });
      expect(facts.warnings, t.key).toEqual([]);
      if (t.channel === 'sms') {
        expect(facts.sms?.encoding, t.key).toBe('GSM-7');
        expect(facts.sms?.units, t.key).toBeLessThanOrEqual(160);
      }
    }
  });

  test('the high-intent SMS reads as intended', () => {
    const sms = rendered.find((r) => r.t.key === 'sms.high_intent')?.out.text;
    expect(sms).toBe(
      'Northwind Fixtures: Hi Dana, our online showroom is down for now. Reply 1 for specs, 2 to book time with our team. Reply STOP to opt out.',
    );
  });
});

function contentOk(channel: string, subject: string | undefined): boolean {
  return channel === 'email' ? typeof subject === 'string' && subject.length > 0 : subject === undefined;
}
