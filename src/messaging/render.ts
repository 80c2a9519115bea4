/**
 * Rendering templates with LiquidJS, strictly. Every variable a template uses is required: a
 * missing, null or empty value is refused with an error naming each one, before anything is
 * rendered. Nothing containing "{{" or "{%" ever leaves (a value carrying template syntax is
 * refused and named). Email bodies are HTML: every variable is escaped (`| raw` does not exist
 * there) and a plain-text part is generated from the result. Other channels are plain text.
 *
 * Parsed templates are cached by version id (approved versions never change; a draft's cache
 * entry is replaced when its text changes), so a fan-out renders one parse many times.
 */
import { compile as compileHtmlToText } from 'html-to-text';
import { Liquid, type Template } from 'liquidjs';
import { escapeHtml } from '../console/html.js';
import { AppError, unprocessable } from '../core/errors.js';
import type { Purpose, TemplateChannel } from './messaging.js';
import { describeSms, type SmsFacts, smsFacts } from './sms-facts.js';
import type { RenderedContent } from './templates.contract.js';

/** What rendering needs of a template version (an ApprovedTemplate fits, so does a draft). */
export interface RenderSource {
  versionId: string;
  key: string;
  channel: TemplateChannel;
  purpose: Purpose;
  subject: string | null;
  body: string;
}

export interface Footer {
  unsubscribeUrl: string;
  postalAddress: string;
}

const BASE_OPTIONS = {
  strictVariables: true,
  strictFilters: true,
  ownPropertyOnly: true,
  // No file system: include, render and layout are removed below; this mapping is a second lock.
  templates: {},
  // The date filter prints UTC, whatever the server's zone.
  timezoneOffset: 0,
  locale: 'en-US',
  parseLimit: 1_000_000,
  memoryLimit: 10_000_000,
} as const;

/**
 * While an HTML body renders, the unescaped value of each output in order (see the text twin
 * below). Rendering is synchronous, so one module-level slot is safe.
 */
let captured: string[] | null = null;

function stringifyOutput(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.map(stringifyOutput).join('');
  return String(value);
}

/** The HTML body's escape, applied to every output: & < > " ' become entities. */
function escapeOutput(value: unknown): string {
  const text = stringifyOutput(value);
  captured?.push(text);
  return escapeHtml(text);
}

function createLiquid(html: boolean): Liquid {
  const liquid = new Liquid(html ? { ...BASE_OPTIONS, outputEscape: escapeOutput } : BASE_OPTIONS);
  for (const tag of ['include', 'render', 'layout', 'block']) delete liquid.tags[tag];
  // In HTML every output is escaped; `| raw` would let a variable through unescaped.
  if (html) liquid.unregisterFilter('raw');
  return liquid;
}

/** Plain text (subjects, SMS, chat, status, …): no escaping. */
const textLiquid = createLiquid(false);
/** Email HTML bodies: every output escaped. */
const htmlLiquid = createLiquid(true);

/** A variable as path segments: ['lead', 'company']; nested arrays are dynamic indexes. */
type SegmentArray = ReturnType<Liquid['globalVariableSegmentsSync']>[number];

const htmlToText = compileHtmlToText({
  // Unwrapped: mail clients reflow plain text, and wrapping could not be the same on both paths below.
  wordwrap: false,
  selectors: [
    { selector: 'a', options: { hideLinkHrefIfSameAsText: true } },
    { selector: 'img', format: 'skip' },
    ...(['h1', 'h2', 'h3', 'h4', 'h5', 'h6'] as const).map((selector) => ({ selector, options: { uppercase: false } })),
    { selector: 'table', format: 'dataTable', options: { uppercaseHeaderCells: false } },
  ],
});

/** The plain-text part of an HTML email body. */
export function textPartFromHtml(html: string): string {
  return tidyText(htmlToText(html));
}

function tidyText(text: string): string {
  return text
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

const OPEN = '\u27E6';
const CLOSE = '\u27E7';
const OUTPUT = /\{\{[\s\S]*?\}\}/g;

/**
 * The plain-text twin of an HTML email body: literal text and, by position, the outputs of the
 * HTML rendering. Derived once per version by running html-to-text over the body with each
 * `{{ … }}` replaced by a marker (the same marker for the same markup, so a link whose text is
 * its href still hides the href). At render time the outputs' unescaped values, captured while
 * the HTML renders, are put where their markers ended up. That is what converting the rendered
 * HTML gives — the escaped values decode to the same text, whitespace in them is collapsed the
 * same way — for a fraction of the cost, which matters in a fan-out of thousands.
 *
 * Bodies where it could differ get no twin (their text is converted from each rendering): tags
 * ({% if %}, {% for %}: the outputs' order is not fixed), tables and preformatted text (layout
 * depends on value lengths), placeholders inside attributes other than href.
 */
interface TextTwin {
  parts: Array<string | number>;
  outputs: number;
}

function deriveTextTwin(body: string): TextTwin | null {
  if (body.includes('{%') || body.includes(OPEN) || body.includes(CLOSE)) return null;
  if (/<(table|pre|textarea|listing|xmp)\b/i.test(body)) return null;
  const firstOccurrence = new Map<string, number>();
  let outputs = 0;
  const marked = body.replace(OUTPUT, (markup) => {
    const index = outputs++;
    if (!firstOccurrence.has(markup)) firstOccurrence.set(markup, index);
    return `${OPEN}${firstOccurrence.get(markup)}${CLOSE}`;
  });
  if (marked.includes('{{') || marked.includes('}}')) return null;
  if (!markersInTextOrHref(marked)) return null;
  const converted = tidyText(htmlToText(marked));
  const parts: Array<string | number> = [];
  let last = 0;
  for (const m of converted.matchAll(new RegExp(`${OPEN}(\\d+)${CLOSE}`, 'g'))) {
    parts.push(converted.slice(last, m.index), Number(m[1]));
    last = m.index + m[0].length;
  }
  parts.push(converted.slice(last));
  if (parts.some((p) => typeof p === 'string' && (p.includes(OPEN) || p.includes(CLOSE)))) return null;
  return { parts, outputs };
}

/** Every marker sits in text, or in an href attribute value. */
function markersInTextOrHref(html: string): boolean {
  for (const m of html.matchAll(new RegExp(OPEN, 'g'))) {
    const before = html.slice(0, m.index);
    const lt = before.lastIndexOf('<');
    const gt = before.lastIndexOf('>');
    if (lt > gt && !/\shref\s*=\s*(["'])[^"'<>]*$/i.test(before.slice(lt))) return false;
  }
  return true;
}

function assembleTwin(twin: TextTwin, values: readonly string[]): string {
  let text = '';
  for (const part of twin.parts) text += typeof part === 'number' ? (values[part] ?? '').replace(/\s+/g, ' ') : part;
  // Whitespace around values collapses as it would in HTML (indentation at line starts stays).
  return tidyText(text.replace(/(\S) {2,}/g, '$1 '));
}

interface Compiled {
  subjectSource: string | null;
  bodySource: string;
  channel: TemplateChannel;
  subject: Template[] | null;
  body: Template[];
  /** Email only: the plain-text twin of the HTML body (null: convert each rendering instead). */
  textTwin: TextTwin | null;
  /** Every variable the template reads from its scope, as path segments. */
  variables: SegmentArray[];
}

const CACHE_LIMIT = 2_000;
const cache = new Map<string, Compiled>();

export interface SyntaxProblem {
  field: 'subject' | 'body';
  message: string;
}

function liquidMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/\s+/g, ' ').trim();
}

function parse(field: 'subject' | 'body', liquid: Liquid, source: string): Template[] {
  try {
    return liquid.parse(source);
  } catch (err) {
    const message = liquidMessage(err);
    const hint = /tag "?(include|render|layout|block)"? not found/i.test(message)
      ? ' (templates cannot include files or other templates)'
      : /undefined filter: raw/.test(message)
        ? ' (HTML email escapes every variable; raw is not available)'
        : '';
    throw unprocessable('invalid_template', `The ${field} is not a valid Liquid template: ${message}${hint}`, {
      field,
      reason: message,
    });
  }
}

function compileSource(source: RenderSource): Compiled {
  const bodyLiquid = source.channel === 'email' ? htmlLiquid : textLiquid;
  const subject = source.subject === null ? null : parse('subject', textLiquid, source.subject);
  const body = parse('body', bodyLiquid, source.body);
  const variables = [
    ...(subject ? textLiquid.globalVariableSegmentsSync(subject) : []),
    ...bodyLiquid.globalVariableSegmentsSync(body),
  ];
  const seen = new Set<string>();
  const unique = variables.filter((v) => {
    const k = JSON.stringify(v);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  return {
    subjectSource: source.subject,
    bodySource: source.body,
    channel: source.channel,
    subject,
    body,
    textTwin: source.channel === 'email' ? deriveTextTwin(source.body) : null,
    variables: unique,
  };
}

function compiled(source: RenderSource): Compiled {
  const hit = cache.get(source.versionId);
  if (hit && hit.bodySource === source.body && hit.subjectSource === source.subject && hit.channel === source.channel) {
    return hit;
  }
  const fresh = compileSource(source);
  if (hit) cache.delete(source.versionId);
  else if (cache.size >= CACHE_LIMIT) {
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  cache.set(source.versionId, fresh);
  return fresh;
}

/** Liquid syntax problems of a subject and body (empty: both parse). */
export function syntaxProblems(channel: TemplateChannel, subject: string | null, body: string): SyntaxProblem[] {
  const problems: SyntaxProblem[] = [];
  const bodyLiquid = channel === 'email' ? htmlLiquid : textLiquid;
  for (const [field, liquid, text] of [
    ['subject', textLiquid, subject],
    ['body', bodyLiquid, body],
  ] as const) {
    if (text === null) continue;
    try {
      parse(field, liquid, text);
    } catch (err) {
      problems.push({ field, message: err instanceof AppError ? err.message : liquidMessage(err) });
    }
  }
  return problems;
}

function pathName(segments: SegmentArray): string {
  let name = '';
  for (const s of segments) {
    if (typeof s === 'string') name += name === '' ? s : `.${s}`;
    else if (typeof s === 'number') name += `[${s}]`;
    else name += '[…]';
  }
  return name;
}

/** The variables a template uses, by name (`first_name`, `lead.company`), in order of appearance. */
export function templateVariables(source: RenderSource): string[] {
  return [...new Set(compiled(source).variables.map(pathName))];
}

function isEmptyValue(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}

/** The names of used variables that are missing, null or empty. */
function missingVariables(variables: readonly SegmentArray[], scope: Record<string, unknown>): string[] {
  const missing: string[] = [];
  for (const segments of variables) {
    let value: unknown = scope;
    let ok = true;
    const walked: SegmentArray = [];
    for (const segment of segments) {
      if (typeof segment !== 'string' && typeof segment !== 'number') break; // dynamic index: checked at render
      walked.push(segment);
      if (value === null || typeof value !== 'object' || !Object.hasOwn(value, segment)) {
        ok = false;
        break;
      }
      value = (value as Record<string | number, unknown>)[segment];
      if (isEmptyValue(value)) {
        ok = false;
        break;
      }
    }
    if (!ok) {
      const name = pathName(walked);
      if (!missing.includes(name)) missing.push(name);
    }
  }
  return missing;
}

/** Names of variables whose value carries template syntax ("{{" or "{%"). */
function variablesCarryingSyntax(scope: Record<string, unknown>, prefix = '', depth = 0): string[] {
  const found: string[] = [];
  if (depth > 5) return found;
  for (const [name, value] of Object.entries(scope)) {
    const path = prefix ? `${prefix}.${name}` : name;
    if (typeof value === 'string') {
      if (value.includes('{{') || value.includes('{%')) found.push(path);
    } else if (value !== null && typeof value === 'object') {
      found.push(...variablesCarryingSyntax(value as Record<string, unknown>, path, depth + 1));
    }
  }
  return found;
}

function hasTemplateSyntax(text: string | undefined): boolean {
  return text !== undefined && (text.includes('{{') || text.includes('{%'));
}

function renderPart(liquid: Liquid, template: Template[], scope: Record<string, unknown>, key: string): string {
  try {
    return String(liquid.renderSync(template, scope));
  } catch (err) {
    const message = liquidMessage(err);
    const variable = /undefined variable: ([^,\s]+)/.exec(message)?.[1];
    throw unprocessable('render_failed', `Template ${key} could not be rendered: ${message}`, {
      template: key,
      ...(variable && { missing: [variable] }),
      reason: message,
    });
  }
}

function addFooterHtml(html: string, footer: Footer): string {
  const block =
    '\n<hr>\n<p class="footer">You receive this email because you asked to hear from us. ' +
    `<a href="${escapeHtml(footer.unsubscribeUrl)}">Unsubscribe</a> with one click.<br>\n` +
    `${escapeHtml(footer.postalAddress)}</p>\n`;
  const at = html.toLowerCase().lastIndexOf('</body>');
  return at === -1 ? `${html}${block}` : `${html.slice(0, at)}${block}${html.slice(at)}`;
}

function addFooterText(text: string, footer: Footer): string {
  return `${text}\n\n--\nUnsubscribe with one click: ${footer.unsubscribeUrl}\n${footer.postalAddress}`;
}

/**
 * Render one template version with variables. Refuses (AppError 422, code "render_failed")
 * naming every missing or empty variable, or every variable whose value carries "{{"/"{%".
 * A marketing email with `footer` gets the unsubscribe link and postal address in both parts.
 */
export function renderTemplate(source: RenderSource, variables: Record<string, unknown>, footer?: Footer): RenderedContent {
  const c = compiled(source);
  const missing = missingVariables(c.variables, variables);
  if (missing.length > 0) {
    throw unprocessable(
      'render_failed',
      `Template ${source.key} needs ${missing.join(', ')}: ${missing.length === 1 ? 'it is' : 'they are'} missing or empty.`,
      { template: source.key, missing },
    );
  }
  // A subject is one line whatever the values hold (no header injection through a line break).
  const subject = c.subject ? renderPart(textLiquid, c.subject, variables, source.key).replace(/\s+/g, ' ').trim() : undefined;
  let body: string;
  let values: string[] | null = null;
  if (source.channel === 'email') {
    captured = c.textTwin ? [] : null;
    try {
      body = renderPart(htmlLiquid, c.body, variables, source.key);
      values = captured;
    } finally {
      captured = null;
    }
  } else {
    body = renderPart(textLiquid, c.body, variables, source.key);
  }
  let out: RenderedContent;
  if (source.channel === 'email') {
    const withFooter = footer && source.purpose === 'marketing' ? addFooterHtml(body, footer) : body;
    let text =
      c.textTwin && values && values.length === c.textTwin.outputs ? assembleTwin(c.textTwin, values) : textPartFromHtml(body);
    if (footer && source.purpose === 'marketing') text = addFooterText(text, footer);
    out = { subject, text, html: withFooter };
  } else {
    out = { text: body.trim(), ...(subject !== undefined && { subject }) };
  }
  if (hasTemplateSyntax(out.subject) || hasTemplateSyntax(out.text) || hasTemplateSyntax(out.html)) {
    const culprits = variablesCarryingSyntax(variables);
    throw unprocessable(
      'render_failed',
      culprits.length > 0
        ? `Template ${source.key}: the value of ${culprits.join(', ')} contains template syntax ("{{" or "{%"), which is never sent.`
        : `Template ${source.key} renders text containing "{{" or "{%", which is never sent.`,
      { template: source.key, template_syntax_in: culprits },
    );
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Channel facts: what the person writing the words needs to know about length and encoding

export const EMAIL_SUBJECT_ADVICE = 78;
export const BANNER_ADVICE = 200;
/** Mastodon counts every link as 23 characters, whatever its length. */
export const MASTODON_URL_LENGTH = 23;

export interface SocialFacts {
  length: number;
  limit: number;
  remaining: number;
  over_by: number;
  links: number;
}

export interface EmailFacts {
  subject_length: number;
  subject_advice: number;
  text_length: number;
  html_length: number;
}

export interface ChannelFacts {
  channel: TemplateChannel;
  /** Characters (code points) of the text part. */
  length: number;
  sms?: SmsFacts;
  social?: SocialFacts;
  email?: EmailFacts;
  /** Things worth fixing before sending, for people. */
  warnings: string[];
}

function describeReplacement(suggestion: string): string {
  if (suggestion === '') return 'remove it';
  if (suggestion === ' ') return 'a plain space';
  return suggestion;
}

/** Length as Mastodon counts it: code points, each link as 23. */
export function socialLength(text: string): { length: number; links: number } {
  let links = 0;
  const replaced = text.replace(/https?:\/\/[^\s]+/g, () => {
    links++;
    return 'x'.repeat(MASTODON_URL_LENGTH);
  });
  return { length: [...replaced].length, links };
}

export function channelFacts(
  channel: TemplateChannel,
  content: RenderedContent,
  options: { socialLimit: number } = { socialLimit: 500 },
): ChannelFacts {
  const facts: ChannelFacts = { channel, length: [...content.text].length, warnings: [] };
  if (channel === 'sms') {
    const sms = smsFacts(content.text);
    facts.sms = sms;
    if (sms.encoding === 'UCS-2') {
      const fixes = sms.non_gsm.map(
        (c) =>
          `${c.code_point} ${c.char} ${c.suggestion === null ? 'has no GSM-7 equivalent' : `→ ${describeReplacement(c.suggestion)}`}`,
      );
      facts.warnings.push(`${describeSms(sms)}. To send GSM-7: ${fixes.join('; ')}.`);
    } else if (sms.segments > 1) {
      facts.warnings.push(`${describeSms(sms)}: every recipient is billed for ${sms.segments} messages.`);
    }
  } else if (channel === 'social') {
    const { length, links } = socialLength(content.text);
    const limit = options.socialLimit;
    facts.social = { length, limit, remaining: Math.max(0, limit - length), over_by: Math.max(0, length - limit), links };
    if (length > limit) facts.warnings.push(`The post is ${length} characters; the limit is ${limit} (${length - limit} over).`);
  } else if (channel === 'email') {
    const subjectLength = [...(content.subject ?? '')].length;
    facts.email = {
      subject_length: subjectLength,
      subject_advice: EMAIL_SUBJECT_ADVICE,
      text_length: facts.length,
      html_length: content.html?.length ?? 0,
    };
    if (subjectLength > EMAIL_SUBJECT_ADVICE) {
      facts.warnings.push(
        `The subject is ${subjectLength} characters; most inboxes show about ${EMAIL_SUBJECT_ADVICE}, the rest is cut off.`,
      );
    }
  } else if (channel === 'banner' && facts.length > BANNER_ADVICE) {
    facts.warnings.push(`The banner is ${facts.length} characters; over ${BANNER_ADVICE} it wraps on small screens.`);
  }
  return facts;
}

/** For tests and benchmarks: forget every parsed template. */
export function clearRenderCache(): void {
  cache.clear();
}
