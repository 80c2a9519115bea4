/*
 * Keepwarm banner: shows the showroom's outage notice from banner.json.
 * Zero dependencies, no build step. Configured by the data attributes of its own script tag:
 *   data-urls      banner.json URLs in order (primary first, then backups), space separated
 *   data-timeout   milliseconds allowed per URL (default 2500)
 *   data-poll      seconds between checks (default 60; 0 = check once)
 *   data-position  top (default) or bottom
 *   data-nonce     CSP nonce for the injected <style> element
 * API: window.KeepwarmBanner.refresh() and .state(); a `keepwarm:banner` event on document when
 * the state changes. Never throws into the page.
 */
(() => {
  const PREFIX = 'keepwarm-banner:v1:';
  const LAST_KEY = `${PREFIX}last`;
  const DISMISSED_KEY = `${PREFIX}dismissed`;
  const CSS =
    '.kwb{box-sizing:border-box;z-index:2147483000;display:flex;flex-wrap:wrap;align-items:center;gap:.5em 1em;' +
    'margin:0;padding:.75em 1em;background:#fff4e5;color:#3d2600;border:0 solid #e8a33d;border-bottom-width:2px;' +
    'font:15px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;text-align:left}' +
    '.kwb--bottom{position:fixed;left:0;right:0;bottom:0;border-width:2px 0 0}' +
    '.kwb *{box-sizing:border-box;font:inherit;color:inherit}' +
    '.kwb__text{flex:1 1 20em;margin:0}.kwb__name{font-weight:700;margin-right:.5em}' +
    '.kwb__meta{display:block;font-size:.85em;opacity:.8}' +
    '.kwb__links{display:flex;flex-wrap:wrap;gap:.5em 1em;align-items:center}' +
    '.kwb a.kwb__link{color:#6b3a00;font-weight:600;text-decoration:underline}' +
    '.kwb__close{cursor:pointer;background:transparent;border:1px solid currentColor;border-radius:4px;' +
    'padding:.1em .5em;line-height:1.2}' +
    '.kwb a:focus-visible,.kwb__close:focus-visible{outline:2px solid #1a5fb4;outline-offset:2px}';

  const script = document.currentScript || document.querySelector('script[src*="keepwarm-banner"]');
  const attr = (name) => script?.getAttribute(`data-${name}`) || '';
  const number = (value, fallback, min) => {
    const n = Number.parseFloat(value);
    return Number.isFinite(n) && n >= 0 ? Math.max(n, min) : fallback;
  };

  let urls = attr('urls').split(/\s+/).filter(Boolean);
  if (!urls.length && script && script.src) urls = [new URL('/status/banner.json', script.src).href];
  const timeoutMs = number(attr('timeout'), 2500, 100);
  const pollRaw = number(attr('poll'), 60, 0);
  const pollMs = pollRaw === 0 ? 0 : Math.max(pollRaw, 1) * 1000;
  const position = attr('position') === 'bottom' ? 'bottom' : 'top';
  const nonce = attr('nonce') || script?.nonce || '';

  let current = { status: 'idle', active: false, shown: false, dismissed: false, id: null, message: null, source: null };
  current.fetchedAt = null;
  current.attempts = [];
  let element = null;
  let styled = false;
  let running = null;
  let timer = 0;

  const storage = {
    get(key) {
      try {
        return window.localStorage.getItem(key);
      } catch {
        return null;
      }
    },
    set(key, value) {
      try {
        window.localStorage.setItem(key, value);
      } catch {
        /* private mode or full: nothing to remember */
      }
    },
  };

  const text = (v) => (typeof v === 'string' ? v : null);
  const link = (v) => {
    if (typeof v !== 'string') return null;
    try {
      const u = new URL(v, location.href);
      return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : null;
    } catch {
      return null;
    }
  };

  /** Only what the banner needs, checked field by field: the JSON is never trusted. */
  function validate(doc) {
    if (!doc || typeof doc !== 'object' || doc.version !== 1 || typeof doc.active !== 'boolean') return null;
    if (typeof doc.id !== 'string' || !doc.id) return null;
    const first =
      Array.isArray(doc.incidents) && doc.incidents[0] && typeof doc.incidents[0] === 'object' ? doc.incidents[0] : {};
    return {
      version: 1,
      active: doc.active,
      id: doc.id.slice(0, 200),
      name: (text(doc.name) || text(first.name) || '').slice(0, 300),
      message: (text(doc.message) || '').slice(0, 1000),
      fallback_url: link(doc.fallback_url),
      status_url: link(doc.status_url),
      updated_at: text(doc.updated_at),
      next_update_at: text(doc.next_update_at) || text(first.next_update_at),
    };
  }

  async function fetchOne(url) {
    const controller = typeof AbortController === 'function' ? new AbortController() : null;
    const started = Date.now();
    const t = setTimeout(() => controller?.abort(), timeoutMs);
    const attempt = { url, outcome: 'error', ms: 0 };
    try {
      const res = await fetch(url, {
        cache: 'no-cache',
        credentials: 'omit',
        mode: 'cors',
        ...(controller ? { signal: controller.signal } : {}),
      });
      if (!res.ok) attempt.outcome = `http ${res.status}`;
      else {
        const doc = validate(await res.json());
        attempt.outcome = doc ? 'ok' : 'invalid';
        if (doc) return { attempt, doc };
      }
    } catch {
      attempt.outcome = controller?.signal.aborted ? 'timeout' : 'error';
    } finally {
      clearTimeout(t);
      attempt.ms = Date.now() - started;
    }
    return { attempt, doc: null };
  }

  function injectStyles() {
    if (styled) return;
    styled = true;
    try {
      if (!nonce && Array.isArray(document.adoptedStyleSheets) && typeof CSSStyleSheet === 'function') {
        const sheet = new CSSStyleSheet();
        sheet.replaceSync(CSS);
        document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
        return;
      }
    } catch {
      /* fall back to a style element */
    }
    const style = document.createElement('style');
    if (nonce) style.setAttribute('nonce', nonce);
    style.textContent = CSS;
    (document.head || document.documentElement).appendChild(style);
  }

  function el(tag, className, content) {
    const node = document.createElement(tag);
    node.className = className;
    if (content != null) node.textContent = content;
    return node;
  }

  function removeBanner() {
    if (element?.parentNode) element.parentNode.removeChild(element);
    element = null;
  }

  function showBanner(doc, stale, fetchedAt) {
    if (!document.body) return false;
    injectStyles();
    if (!element) {
      element = el('div', `kwb kwb--${position}`);
      element.setAttribute('role', 'status');
      element.setAttribute('aria-live', 'polite');
      element.setAttribute('aria-label', 'Service status');
      if (position === 'top') document.body.insertBefore(element, document.body.firstChild);
      else document.body.appendChild(element);
    }
    const body = el('p', 'kwb__text');
    if (doc.name && doc.name !== doc.message) body.appendChild(el('strong', 'kwb__name', doc.name));
    body.appendChild(document.createTextNode(doc.message || doc.name || 'We are having a service problem.'));
    const format = (iso) => {
      const t = Date.parse(iso);
      return Number.isFinite(t) ? new Date(t).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' }) : '';
    };
    const updated = format(doc.updated_at);
    const next = format(doc.next_update_at);
    const meta = stale
      ? `Last known status, checked ${format(fetchedAt) || 'earlier'}`
      : [updated && `Updated ${updated}`, next && `Next update by ${next}`].filter(Boolean).join(' · ');
    if (meta) body.appendChild(el('span', 'kwb__meta', meta));
    const links = el('div', 'kwb__links');
    if (doc.fallback_url) {
      const a = el('a', 'kwb__link', 'Browse the catalog');
      a.href = doc.fallback_url;
      links.appendChild(a);
    }
    if (doc.status_url) {
      const a = el('a', 'kwb__link', 'Status page');
      a.href = doc.status_url;
      links.appendChild(a);
    }
    const close = el('button', 'kwb__close', '\u00d7');
    close.type = 'button';
    close.setAttribute('aria-label', 'Dismiss status notice');
    close.addEventListener('click', () => safely(() => dismiss(doc.id)));
    links.appendChild(close);
    element.replaceChildren(body, links);
    return true;
  }

  function publish(next) {
    const prev = current;
    current = next;
    const changed = ['status', 'active', 'shown', 'dismissed', 'id', 'message', 'source'].some((k) => prev[k] !== next[k]);
    if (changed) {
      try {
        document.dispatchEvent(new CustomEvent('keepwarm:banner', { detail: state() }));
      } catch {
        /* old browsers */
      }
    }
  }

  function apply(doc, status, source, fetchedAt, attempts) {
    const dismissed = !!doc && doc.active && storage.get(DISMISSED_KEY) === doc.id;
    let shown = false;
    if (doc?.active && !dismissed) shown = showBanner(doc, status === 'cached', fetchedAt);
    else removeBanner();
    publish({
      status,
      active: !!doc && doc.active,
      shown,
      dismissed,
      id: doc ? doc.id : null,
      message: doc ? doc.message : null,
      source,
      fetchedAt,
      attempts,
    });
  }

  function dismiss(id) {
    storage.set(DISMISSED_KEY, id);
    removeBanner();
    publish({ ...current, shown: false, dismissed: true });
  }

  async function check() {
    const attempts = [];
    for (const url of urls) {
      const { attempt, doc } = await fetchOne(url);
      attempts.push(attempt);
      if (doc) {
        const fetchedAt = new Date().toISOString();
        storage.set(LAST_KEY, JSON.stringify({ doc, source: url, fetchedAt }));
        apply(doc, 'live', url, fetchedAt, attempts);
        return;
      }
    }
    let last = null;
    try {
      last = JSON.parse(storage.get(LAST_KEY) || 'null');
    } catch {
      last = null;
    }
    const doc = last && validate(last.doc);
    if (doc) apply(doc, 'cached', text(last.source), text(last.fetchedAt), attempts);
    else apply(null, 'unavailable', null, null, attempts);
  }

  function schedule() {
    clearTimeout(timer);
    if (pollMs > 0) timer = setTimeout(() => safely(refresh), pollMs);
  }

  function refresh() {
    if (!running) {
      running = check()
        .catch((err) => console.warn('keepwarm banner:', err))
        .finally(() => {
          running = null;
          schedule();
        });
    }
    return running.then(state, state);
  }

  function state() {
    return { ...current, attempts: current.attempts.map((a) => ({ ...a })) };
  }

  function safely(fn) {
    try {
      return fn();
    } catch (err) {
      console.warn('keepwarm banner:', err);
    }
  }

  safely(() => {
    window.KeepwarmBanner = { refresh: () => safely(refresh) || Promise.resolve(state()), state };
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', () => safely(refresh), { once: true });
    else refresh();
  });
})();
