/* Keepwarm kill switches for the showroom: reads flags.json (Keepwarm's live one, then copies
   published beside the fallback mirror), keeps the last answer, and always gives the page a
   value: the flag's, or the safe default the page passes. Zero dependencies; never throws. */
(() => {
  const script = document.currentScript;
  const attr = (name) => script?.getAttribute(name) || '';
  let urls = attr('data-urls').split(/\s+/).filter(Boolean);
  if (urls.length === 0 && script?.src) urls = [new URL('/flags.json', script.src).href];
  const timeout = Math.max(100, Number(attr('data-timeout')) || 2500);
  const pollRaw = attr('data-poll');
  const poll = pollRaw === '' ? 60 : Math.max(0, Number(pollRaw) || 0);
  const storeKey = `keepwarm-flags:${urls[0] || ''}`;
  let values = Object.create(null);
  let source = null;
  let fetchedAt = null;
  let status = 'loading';

  const valid = (doc) =>
    doc && Array.isArray(doc.flags) && doc.flags.every((f) => f && typeof f.key === 'string' && 'value' in f);
  const apply = (doc, from, at, save) => {
    const next = Object.create(null);
    for (const f of doc.flags) next[f.key] = f.value;
    values = next;
    source = from;
    fetchedAt = at;
    if (save) {
      try {
        localStorage.setItem(storeKey, JSON.stringify({ doc, from, at }));
      } catch (_) {}
    }
    try {
      document.dispatchEvent(new CustomEvent('keepwarm:flags', { detail: api.state() }));
    } catch (_) {}
  };
  // The last known answer first: a page that loads while every URL is down still gets it.
  try {
    const saved = JSON.parse(localStorage.getItem(storeKey) || 'null');
    if (saved && valid(saved.doc)) {
      apply(saved.doc, saved.from, saved.at, false);
      status = 'cached';
    }
  } catch (_) {}

  const fetchOne = async (url) => {
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), timeout);
    try {
      const res = await fetch(url, { credentials: 'omit', cache: 'no-cache', signal: ctrl.signal });
      if (!res.ok) return null;
      const doc = await res.json();
      return valid(doc) ? doc : null;
    } catch (_) {
      return null;
    } finally {
      clearTimeout(timer);
    }
  };
  const refresh = async () => {
    for (const url of urls) {
      const doc = await fetchOne(url);
      if (doc) {
        status = 'live';
        apply(doc, url, new Date().toISOString(), true);
        return api.state();
      }
    }
    if (status !== 'cached' && status !== 'live') status = 'defaults';
    else if (status === 'live') status = 'cached';
    return api.state();
  };

  const api = {
    /** The flag's value, or `fallback` when the flag is unknown or nothing could be read. */
    get(key, fallback) {
      return Object.hasOwn(values, key) ? values[key] : fallback;
    },
    /** True only when the flag is on (true); `fallback` when it is unknown. */
    isOn(key, fallback) {
      const v = api.get(key, fallback);
      return v === true;
    },
    state() {
      return { status, source, fetchedAt, flags: Object.assign({}, values) };
    },
    refresh,
    ready: null,
  };
  api.ready = refresh().catch(() => api.state());
  window.KeepwarmFlags = api;
  if (poll > 0) setInterval(() => void refresh().catch(() => {}), poll * 1000);
})();
