/**
 * A tiny JSX runtime that renders straight to HTML text. Every string child and attribute value
 * is escaped; only SafeHtml (from JSX or raw()) passes through unescaped. URL attributes refuse
 * script schemes.
 */
export class SafeHtml {
  constructor(readonly html: string) {}
  toString(): string {
    return this.html;
  }
}

export type Child = SafeHtml | string | number | bigint | boolean | null | undefined | Child[];
type Props = Record<string, unknown> & { children?: Child };
type Component<P> = (props: P & { children?: Child }) => SafeHtml;

const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr']);
const URL_ATTRS = new Set(['href', 'src', 'action', 'formaction', 'poster', 'cite']);
const ATTR_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:.-]*$/;
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

const NEEDS_ESCAPE = /[&<>"']/;

export function escapeHtml(text: string): string {
  return NEEDS_ESCAPE.test(text) ? text.replace(/[&<>"']/g, (c) => ESCAPES[c] as string) : text;
}

/** Mark trusted markup (never user or catalog text). */
export function raw(html: string): SafeHtml {
  return new SafeHtml(html);
}

function renderChild(child: Child): string {
  if (child === null || child === undefined || child === false || child === true) return '';
  if (child instanceof SafeHtml) return child.html;
  if (Array.isArray(child)) {
    let html = '';
    for (const c of child) html += renderChild(c);
    return html;
  }
  return escapeHtml(String(child));
}

/** Attribute names already checked against ATTR_NAME (pages reuse a few dozen names). */
const CHECKED_NAMES = new Set<string>();

function safeUrl(value: string): string {
  // Browsers ignore whitespace and control characters inside a scheme ("java\tscript:").
  let scheme = '';
  for (const ch of value.toLowerCase()) {
    if (ch.charCodeAt(0) > 0x20) scheme += ch;
    if (scheme.length >= 11) break;
  }
  const dangerous = ['javascript:', 'vbscript:', 'data:'].some((p) => scheme.startsWith(p));
  return dangerous && !scheme.startsWith('data:image/') ? '#' : value;
}

export function h(tag: string | Component<Props>, props: Props | null, ...children: Child[]): SafeHtml {
  if (typeof tag === 'function') {
    return tag({ ...(props ?? {}), children: children.length === 1 ? children[0] : children });
  }
  let html = `<${tag}`;
  for (const name in props) {
    const value = props[name];
    if (name === 'children' || value === null || value === undefined || value === false) continue;
    if (!CHECKED_NAMES.has(name)) {
      if (!ATTR_NAME.test(name)) throw new Error(`invalid attribute name ${name}`);
      CHECKED_NAMES.add(name);
    }
    if (value === true) {
      html += ` ${name}`;
      continue;
    }
    const text = String(value);
    html += ` ${name}="${escapeHtml(URL_ATTRS.has(name) ? safeUrl(text) : text)}"`;
  }
  html += '>';
  if (VOID.has(tag)) return new SafeHtml(html);
  return new SafeHtml(`${html}${renderChild(children)}</${tag}>`);
}

export function Fragment(props: { children?: Child } | null, ...children: Child[]): SafeHtml {
  return new SafeHtml(renderChild(children.length > 0 ? children : (props?.children ?? null)));
}

export function renderDocument(root: SafeHtml): string {
  return `<!doctype html>${root.html}`;
}

declare global {
  namespace JSX {
    type Element = SafeHtml;
    interface IntrinsicElements {
      [tag: string]: Record<string, unknown>;
    }
    interface ElementChildrenAttribute {
      children: unknown;
    }
  }
}
