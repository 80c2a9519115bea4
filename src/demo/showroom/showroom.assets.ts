import { createHash } from 'node:crypto';
import { escapeHtml } from '../../console/html.js';

/**
 * The demo showroom's static assets, as a CDN would serve them: the style sheet, the page script,
 * the logo and one illustration per product (SVG, drawn from the SKU, so nothing is fetched from
 * elsewhere). Plus the third-party configurator widget, which the product page loads from the
 * widget's own path.
 */

export const SHOWROOM_CSS = `:root{--ink:#1d2430;--muted:#5b6472;--line:#d9dee5;--brand:#0b5cad;--bg:#f6f7f9;--warn:#8a4b00}
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:var(--bg)}
a{color:var(--brand)}
a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible{outline:3px solid #f0a500;outline-offset:2px}
.top{display:flex;align-items:center;gap:1.5rem;padding:.75rem 1.5rem;background:#fff;border-bottom:1px solid var(--line)}
.top .brand{display:flex;align-items:center;gap:.5rem;font-weight:700;text-decoration:none;color:var(--ink)}
.top nav{margin-left:auto;display:flex;gap:1rem;align-items:center}
.top form{margin:0}
main{max-width:72rem;margin:0 auto;padding:1.5rem}
.filters{display:flex;flex-wrap:wrap;gap:.5rem;margin:0 0 1rem;padding:0;list-style:none}
.filters a{display:inline-block;padding:.25rem .75rem;border:1px solid var(--line);border-radius:999px;background:#fff;text-decoration:none}
.filters a[aria-current]{background:var(--brand);color:#fff;border-color:var(--brand)}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(14rem,1fr));gap:1rem;padding:0;list-style:none}
.card{background:#fff;border:1px solid var(--line);border-radius:.5rem;padding:1rem;display:flex;flex-direction:column;gap:.5rem}
.card img,.product img{width:100%;height:auto;border-radius:.25rem;background:#eef1f5}
.card h2{font-size:1rem;margin:0}
.muted{color:var(--muted)}
.price{font-weight:700}
.price[data-state=failed],.notice{color:var(--warn)}
.product{display:grid;grid-template-columns:minmax(0,2fr) minmax(0,3fr);gap:2rem}
@media (max-width:48rem){.product{grid-template-columns:1fr}}
.panel{background:#fff;border:1px solid var(--line);border-radius:.5rem;padding:1rem;margin-bottom:1rem}
.panel h2{font-size:1.1rem;margin-top:0}
table.specs{border-collapse:collapse;width:100%}
table.specs th,table.specs td{text-align:left;border-bottom:1px solid var(--line);padding:.35rem .5rem;vertical-align:top}
label{display:block;font-weight:600;margin:.5rem 0 .25rem}
input,select{font:inherit;padding:.4rem .5rem;border:1px solid #9aa3ad;border-radius:.25rem;width:100%;max-width:22rem}
button{font:inherit;padding:.5rem 1rem;border:0;border-radius:.25rem;background:var(--brand);color:#fff;cursor:pointer;margin-top:.75rem}
button.link{background:none;color:var(--brand);padding:0;margin:0;text-decoration:underline}
.configurator{min-height:6rem}
.configurator svg{width:8rem;height:5rem;display:block;margin-top:.5rem}
footer{max-width:72rem;margin:2rem auto;padding:0 1.5rem;color:var(--muted);font-size:.9rem}
`;

/**
 * The page script: tells Keepwarm what the buyer does (intent events through the events SDK,
 * with the signed-in buyer's email), fills in live prices from the product API and handles the
 * quote and demo forms. Every failure shows a plain message in the page; nothing throws.
 */
export const SHOWROOM_JS = `(() => {
  'use strict';
  const warn = (...a) => { try { console.warn('showroom:', ...a); } catch {} };
  const body = document.body;
  const buyer = body.dataset.buyer || '';
  const pending = [];
  let ready = false;
  const withEvents = (fn) => {
    if (ready && window.KeepwarmEvents) { try { fn(window.KeepwarmEvents); } catch (e) { warn(e); } return; }
    pending.push(fn);
  };
  const start = () => {
    if (ready || !window.KeepwarmEvents) return;
    ready = true;
    if (buyer) { try { window.KeepwarmEvents.identify({ email: buyer }); } catch (e) { warn(e); } }
    for (const fn of pending.splice(0)) { try { fn(window.KeepwarmEvents); } catch (e) { warn(e); } }
  };
  const sdk = document.querySelector('script[src*="keepwarm-events"]');
  if (window.KeepwarmEvents) start();
  else if (sdk) sdk.addEventListener('load', start, { once: true });

  const api = async (path, init) => {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), 5000);
    try {
      const res = await fetch(path, { ...init, signal: abort.signal, headers: { accept: 'application/json', ...(init && init.headers) } });
      if (!res.ok) throw new Error('HTTP ' + res.status);
      return await res.json();
    } finally { clearTimeout(timer); }
  };
  const money = (price) => {
    if (!price) return 'Price on request';
    try { return new Intl.NumberFormat('en-US', { style: 'currency', currency: price.currency }).format(Number(price.amount)); }
    catch { return price.amount + ' ' + price.currency; }
  };
  const say = (el, text, state) => { if (!el) return; el.textContent = text; if (state) el.dataset.state = state; };

  // Product list: prices from the product API.
  const listed = document.querySelectorAll('[data-price-for]');
  if (listed.length) {
    api('/api/products').then((data) => {
      const bySku = new Map(data.products.map((p) => [p.sku, p]));
      for (const el of listed) { const p = bySku.get(el.dataset.priceFor); say(el, p ? money(p.price) : 'Price on request', 'ok'); }
    }).catch((e) => { warn(e); for (const el of listed) say(el, 'Pricing unavailable', 'failed'); });
  }

  // Product page: the view, the live price, the configurator, the quote and the demo request.
  const product = document.querySelector('[data-product-sku]');
  if (!product) return;
  const sku = product.dataset.productSku;
  const name = product.dataset.productName;
  withEvents((kw) => kw.track('product_viewed', { product: name, properties: { sku } }));
  const priceEl = document.getElementById('price');
  const availEl = document.getElementById('availability');
  let unit = null;
  api('/api/products/' + encodeURIComponent(sku)).then((p) => {
    unit = p.price;
    say(priceEl, money(p.price), 'ok');
    say(availEl, p.availability_label, 'ok');
  }).catch((e) => {
    warn(e);
    say(priceEl, 'Live pricing is unavailable right now', 'failed');
    say(availEl, 'Ask for a quote and sales will confirm price and delivery.', 'failed');
  });

  const widget = document.querySelector('[data-configurator]');
  if (widget) setTimeout(() => {
    if (widget.dataset.state !== 'ready') say(widget, 'The 3D configurator is unavailable right now. Standard options apply to quotes.', 'unavailable');
  }, 4000);

  const quote = document.getElementById('quote-form');
  if (quote) quote.addEventListener('submit', (e) => {
    e.preventDefault();
    const out = document.getElementById('quote-result');
    const quantity = Number(quote.elements.quantity.value);
    let options = {};
    try { options = JSON.parse(quote.elements.options.value || '{}'); } catch {}
    const estimate = unit ? Math.round(Number(unit.amount) * (quantity || 1)) : undefined;
    say(out, 'Preparing your quote…');
    api('/api/quote', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sku, quantity, options }) })
      .then((q) => {
        say(out, 'Quote ' + q.quote + ': ' + q.quantity + ' × ' + name + ' = ' + money(q.total), 'ok');
        withEvents((kw) => kw.track('cart_updated', { product: name, value: q.total ? Math.round(Number(q.total.amount)) : estimate, properties: { sku, quantity: q.quantity, quote: q.quote } }));
      })
      .catch((err) => {
        warn(err);
        say(out, 'We could not prepare the quote right now. Your request is noted and sales will follow up.', 'failed');
        withEvents((kw) => kw.track('cart_updated', { product: name, value: estimate, properties: { sku, quantity, quote: null } }));
      });
  });

  const demo = document.getElementById('demo-form');
  if (demo) demo.addEventListener('submit', (e) => {
    e.preventDefault();
    const out = document.getElementById('demo-result');
    const email = demo.elements.email.value.trim();
    if (!/^[^\\s@]+@[^\\s@]+\\.[^\\s@]+$/.test(email)) { say(out, 'Email: enter an address like name@company.com.', 'failed'); demo.elements.email.focus(); return; }
    const day = demo.elements.date.value;
    const when = day ? new Date(day + 'T15:00:00Z').toISOString() : undefined;
    withEvents((kw) => {
      kw.identify({ email });
      kw.track('demo_booked', { email, product: name, properties: { sku, scheduled_at: when } });
    });
    say(out, 'Thank you. A product specialist will confirm your demo' + (day ? ' on ' + day : '') + ' by email.', 'ok');
  });
})();
`;

/** The configurator: a stand-in for a vendor's embeddable 3D widget (finish and size, with a preview). */
export const CONFIGURATOR_JS = `(() => {
  'use strict';
  const FINISHES = [['oak', 'Natural oak', '#c8a165'], ['black', 'Matte black', '#2b2b2b'], ['steel', 'Brushed steel', '#a7b0ba']];
  const SIZES = [['standard', 'Standard'], ['large', 'Large (+15%)']];
  const NS = 'http://www.w3.org/2000/svg';
  const el = (tag, attrs, text) => { const e = document.createElement(tag); for (const k in attrs) e.setAttribute(k, attrs[k]); if (text) e.textContent = text; return e; };
  const select = (id, label, items) => {
    const wrap = document.createDocumentFragment();
    wrap.append(el('label', { for: id }, label));
    const s = el('select', { id });
    for (const [value, text] of items) s.append(el('option', { value }, text));
    wrap.append(s);
    return [wrap, s];
  };
  const mount = (root) => {
    root.textContent = '';
    const [f1, finish] = select('cfg-finish', 'Finish', FINISHES);
    const [f2, size] = select('cfg-size', 'Size', SIZES);
    const svg = document.createElementNS(NS, 'svg');
    svg.setAttribute('viewBox', '0 0 160 100');
    svg.setAttribute('role', 'img');
    const rect = document.createElementNS(NS, 'rect');
    rect.setAttribute('x', '20'); rect.setAttribute('y', '20'); rect.setAttribute('rx', '6');
    svg.append(rect);
    root.append(f1, f2, svg);
    const update = () => {
      const f = FINISHES.find((x) => x[0] === finish.value) || FINISHES[0];
      const large = size.value === 'large';
      rect.setAttribute('width', large ? '120' : '90'); rect.setAttribute('height', large ? '64' : '50');
      rect.setAttribute('fill', f[2]);
      svg.setAttribute('aria-label', 'Preview: ' + f[1] + ', ' + (large ? 'large' : 'standard') + ' size');
      const target = document.querySelector(root.dataset.configurator);
      if (target) target.value = JSON.stringify({ finish: finish.value, size: size.value });
    };
    finish.addEventListener('change', update);
    size.addEventListener('change', update);
    update();
    root.dataset.state = 'ready';
  };
  window.AcmeConfigurator = { version: '1.4.2' };
  for (const root of document.querySelectorAll('[data-configurator]')) {
    try { mount(root); } catch (e) { console.warn('configurator:', e); }
  }
})();
`;

export const LOGO_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32" width="32" height="32"><rect width="32" height="32" rx="6" fill="#0b5cad"/><path d="M8 24 16 7l8 17h-4l-4-9-4 9z" fill="#fff"/></svg>`;

/** A product illustration: a colour and a shape from the SKU, the product's initials. */
export function productSvg(sku: string, name: string): string {
  const digest = createHash('sha1').update(sku).digest();
  const hue = ((digest[0] ?? 0) * 360) / 256;
  const shape = (digest[1] ?? 0) % 3;
  const initials =
    name
      .split(/\s+/)
      .filter((w) => /^[\p{L}\p{N}]/u.test(w))
      .slice(0, 2)
      .map((w) => w.slice(0, 1).toUpperCase())
      .join('') || '?';
  const fill = `hsl(${hue.toFixed(0)} 55% 45%)`;
  const figure =
    shape === 0
      ? `<rect x="110" y="50" width="180" height="120" rx="12" fill="${fill}"/>`
      : shape === 1
        ? `<circle cx="200" cy="110" r="70" fill="${fill}"/>`
        : `<path d="M200 35 290 185H110z" fill="${fill}"/>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 240" width="400" height="240" role="img" aria-label="${escapeHtml(name)}"><rect width="400" height="240" fill="hsl(${hue.toFixed(0)} 40% 94%)"/>${figure}<text x="200" y="222" text-anchor="middle" font-family="system-ui,sans-serif" font-size="22" fill="#1d2430">${escapeHtml(initials)}</text></svg>`;
}
