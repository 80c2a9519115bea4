/*
 * Keepwarm events: the showroom's intent events (product views, carts, demos, forms), buffered in
 * localStorage so that none is lost while Keepwarm or the network is down, and delivered once.
 * Zero dependencies, no build step. Configured by the data attributes of its own script tag:
 *   data-endpoints  event URLs in order (primary first, then backups), space separated
 *                   (default /api/v1/events/browser on the script's origin)
 *   data-key        the site's public key (sent as ?key=)
 *   data-batch      events per request (default 50, at most 100)
 *   data-max-queue  events kept while undelivered (default 500; then the oldest are dropped)
 *   data-timeout    milliseconds allowed per request (default 5000)
 *   data-retry      backoff bounds in milliseconds, "first cap" (default "1000 300000")
 *   data-delay      milliseconds to gather events before sending (default 1000)
 *   data-clicks     "off": do not track clicks on [data-kw-event] elements
 * API: window.KeepwarmEvents.track(type, fields), .identify(fields), .flush(), .state(); a
 * `keepwarm:events` event on document after each delivery attempt. Never throws into the page.
 */
(() => {
  const PREFIX = 'keepwarm-events:v1:';
  const QUEUE_KEY = `${PREFIX}queue`;
  const ANON_KEY = `${PREFIX}anon`;
  const IDENTITY_KEY = `${PREFIX}identity`;
  const TYPES = ['product_viewed', 'cart_updated', 'demo_booked', 'form_submitted'];
  const MAX_EVENT_BYTES = 4096;
  const MAX_BODY_BYTES = 60000;

  const warn = (...args) => {
    try {
      console.warn('keepwarm-events:', ...args);
    } catch {
      /* no console */
    }
  };
  const guard =
    (fn, fallback) =>
    (...args) => {
      try {
        return fn(...args);
      } catch (err) {
        warn(err);
        return fallback;
      }
    };

  guard(() => {
    const script = document.currentScript || document.querySelector('script[src*="keepwarm-events"]');
    const attr = (name) => script?.getAttribute(`data-${name}`) || '';
    const number = (value, fallback, min, max) => {
      const n = Number.parseFloat(value);
      return Number.isFinite(n) ? Math.min(Math.max(n, min), max) : fallback;
    };

    const key = attr('key');
    let endpoints = attr('endpoints').split(/\s+/).filter(Boolean);
    if (!endpoints.length && script && script.src) endpoints = [new URL('/api/v1/events/browser', script.src).href];
    endpoints = endpoints.map((u) => {
      const url = new URL(u, location.href);
      if (key) url.searchParams.set('key', key);
      return url.href;
    });
    const batchSize = Math.floor(number(attr('batch'), 50, 1, 100));
    const maxQueue = Math.floor(number(attr('max-queue'), 500, 1, 5000));
    const timeoutMs = number(attr('timeout'), 5000, 100, 60000);
    const [retryFirst, retryCap] = attr('retry').split(/\s+/);
    const backoffFirst = number(retryFirst, 1000, 10, 3600000);
    const backoffCap = number(retryCap, 300000, backoffFirst, 86400000);
    const delayMs = number(attr('delay'), 1000, 0, 60000);

    const memory = {};
    let persistent = true;
    const load = (k) => {
      if (persistent) {
        try {
          return window.localStorage.getItem(k);
        } catch {
          persistent = false;
        }
      }
      return k in memory ? memory[k] : null;
    };
    const store = (k, v) => {
      memory[k] = v;
      if (!persistent) return true;
      try {
        window.localStorage.setItem(k, v);
        return true;
      } catch {
        return false;
      }
    };
    const readJson = (k, fallback) => {
      try {
        return JSON.parse(load(k)) ?? fallback;
      } catch {
        return fallback;
      }
    };

    const stats = { sent: 0, duplicates: 0, rejected: 0, dropped: 0, beacons: 0 };
    let attempt = 0;
    let nextAt = 0;
    let timer = 0;
    let running = null;
    let lastError = null;
    let lastEndpoint = null;
    let limit = batchSize;

    const readQueue = () => {
      const q = readJson(QUEUE_KEY, []);
      return Array.isArray(q) ? q.filter((e) => e && typeof e.messageId === 'string') : [];
    };
    const writeQueue = (queue) => {
      let q = queue;
      // Full storage: keep the newest half rather than nothing.
      while (!store(QUEUE_KEY, JSON.stringify(q)) && q.length > 1) {
        stats.dropped += q.length - (q.length >> 1);
        q = q.slice(q.length - (q.length >> 1));
      }
    };

    const randomId = () => {
      const c = window.crypto;
      if (c?.randomUUID) return c.randomUUID();
      const bytes = c?.getRandomValues
        ? c.getRandomValues(new Uint8Array(16))
        : Array.from({ length: 16 }, () => Math.random() * 256);
      return Array.from(bytes, (b) => (b & 255).toString(16).padStart(2, '0')).join('');
    };
    let anonymousId = load(ANON_KEY);
    if (!anonymousId) {
      anonymousId = randomId();
      store(ANON_KEY, anonymousId);
    }

    const state = () => ({
      queued: readQueue().length,
      sending: running !== null,
      attempt,
      nextAttemptAt: nextAt ? new Date(nextAt).toISOString() : null,
      lastError,
      endpoint: lastEndpoint,
      storage: persistent ? 'localStorage' : 'memory',
      ...stats,
    });
    const announce = () => {
      try {
        document.dispatchEvent(new CustomEvent('keepwarm:events', { detail: state() }));
      } catch {
        /* old browser */
      }
    };

    const schedule = (ms) => {
      clearTimeout(timer);
      nextAt = Date.now() + ms;
      timer = setTimeout(() => {
        timer = 0;
        flush();
      }, ms);
    };

    /** One request to one URL: 'ok' with the answer, 'retry' (try the next URL), or 'poison'. */
    const post = async (url, body) => {
      const abort = new AbortController();
      const t = setTimeout(() => abort.abort(), timeoutMs);
      try {
        const res = await fetch(url, {
          method: 'POST',
          body,
          credentials: 'omit',
          keepalive: body.length < MAX_BODY_BYTES,
          signal: abort.signal,
        });
        if (res.ok) return { outcome: 'ok', answer: await res.json().catch(() => ({})) };
        const status = `http ${res.status}`;
        if (res.status === 429) {
          const after = Number.parseFloat(res.headers.get('retry-after') || '');
          return { outcome: 'wait', status, waitMs: Number.isFinite(after) ? after * 1000 : 0 };
        }
        return { outcome: [400, 413, 422].includes(res.status) ? 'poison' : 'retry', status };
      } catch (err) {
        return { outcome: 'retry', status: err && err.name === 'AbortError' ? 'timeout' : 'error' };
      } finally {
        clearTimeout(t);
      }
    };

    const take = (q, bytes) => {
      const batch = [];
      let size = 40;
      for (const e of q) {
        const n = JSON.stringify(e).length + 1;
        if (batch.length >= limit || (batch.length && size + n > bytes)) break;
        batch.push(e);
        size += n;
      }
      return batch;
    };
    const bodyOf = (batch) => JSON.stringify({ events: batch, sentAt: new Date().toISOString() });

    const drain = async () => {
      for (;;) {
        const queue = readQueue();
        if (!queue.length) {
          attempt = 0;
          nextAt = 0;
          return;
        }
        const batch = take(queue, MAX_BODY_BYTES);
        const body = bodyOf(batch);
        let result = { outcome: 'retry', status: 'no endpoint' };
        for (const url of endpoints) {
          result = await post(url, body);
          if (result.outcome !== 'retry') {
            lastEndpoint = url;
            break;
          }
        }
        if (result.outcome === 'poison' && batch.length > 1) {
          // Something in the batch is refused as a whole: narrow it down to the event at fault.
          limit = Math.max(1, batch.length >> 1);
          continue;
        }
        if (result.outcome === 'ok' || result.outcome === 'poison') {
          const a = result.answer || {};
          stats.sent += a.accepted || 0;
          stats.duplicates += a.duplicates || 0;
          stats.rejected += result.outcome === 'poison' ? 1 : Array.isArray(a.errors) ? a.errors.length : 0;
          if (a.errors?.length) warn('events refused', a.errors);
          const done = new Set(batch.map((e) => e.messageId));
          writeQueue(readQueue().filter((e) => !done.has(e.messageId)));
          attempt = 0;
          lastError = result.outcome === 'poison' ? result.status : null;
          if (limit < batchSize && result.outcome === 'ok') limit = Math.min(batchSize, limit * 2);
          announce();
          continue;
        }
        lastError = result.status;
        attempt += 1;
        // Exponential backoff with full jitter (a Retry-After is honoured as a floor).
        const ceiling = Math.min(backoffCap, backoffFirst * 2 ** (attempt - 1));
        schedule(Math.max(result.waitMs || 0, 10 + Math.random() * ceiling));
        return;
      }
    };

    const flush = () => {
      if (!running) {
        clearTimeout(timer);
        nextAt = 0;
        running = drain()
          .catch(warn)
          .then(() => {
            running = null;
            announce();
            return state();
          });
      }
      return running;
    };

    /** The page is going away: hand what is queued to the browser (kept until a fetch confirms it). */
    const beacon = () => {
      const queue = readQueue();
      if (!queue.length || !navigator.sendBeacon) return;
      const url = lastEndpoint || endpoints[0];
      if (url && navigator.sendBeacon(url, bodyOf(take(queue, MAX_BODY_BYTES)))) stats.beacons += 1;
    };

    const clean = (fields) => {
      const out = {};
      for (const k of ['email', 'leadId', 'product']) if (typeof fields?.[k] === 'string' && fields[k]) out[k] = fields[k];
      return out;
    };

    const track = (type, fields = {}) => {
      if (!TYPES.includes(type)) {
        warn(`unknown event type ${JSON.stringify(type)}; expected one of ${TYPES.join(', ')}`);
        return null;
      }
      const event = { messageId: randomId(), type, anonymousId, at: new Date().toISOString() };
      Object.assign(event, clean(readJson(IDENTITY_KEY, {})), clean(fields));
      const value = Number(fields.value);
      if (fields.value !== undefined && Number.isFinite(value) && value >= 0) event.value = Math.round(value);
      if (fields.properties && typeof fields.properties === 'object') event.properties = fields.properties;
      if (JSON.stringify(event).length > MAX_EVENT_BYTES) {
        warn(`event over ${MAX_EVENT_BYTES} bytes not kept`);
        return null;
      }
      const queue = readQueue();
      queue.push(event);
      if (queue.length > maxQueue) stats.dropped += queue.splice(0, queue.length - maxQueue).length;
      writeQueue(queue);
      if (!running && !timer) schedule(delayMs);
      return event.messageId;
    };

    const identify = (fields) => {
      store(IDENTITY_KEY, JSON.stringify({ ...readJson(IDENTITY_KEY, {}), ...clean(fields) }));
    };

    const recover = () => {
      attempt = 0;
      flush();
    };

    const on = (target, type, fn) => target.addEventListener(type, guard(fn));
    on(window, 'online', recover);
    on(window, 'pagehide', beacon);
    on(document, 'visibilitychange', () => {
      if (document.visibilityState === 'hidden') beacon();
    });
    // The banner script says the incident is over: the showroom (and likely Keepwarm) is back.
    let outage = false;
    on(document, 'keepwarm:banner', (e) => {
      const active = !!e.detail?.active;
      if (outage && !active) recover();
      outage = active;
    });
    if (attr('clicks') !== 'off') {
      on(document, 'click', (e) => {
        const el = e.target?.closest?.('[data-kw-event]');
        if (!el) return;
        const d = el.dataset;
        track(d.kwEvent, { product: d.kwProduct, value: d.kwValue === undefined ? undefined : d.kwValue });
      });
    }

    window.KeepwarmEvents = {
      track: guard(track, null),
      identify: guard(identify),
      flush: guard(flush, Promise.resolve(null)),
      state: guard(state, null),
    };
    // Events left by an earlier page (or before an outage) go out now.
    if (readQueue().length) schedule(0);
  })();
})();
