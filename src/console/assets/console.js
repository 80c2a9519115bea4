// Progressive enhancement only: every page works without this file.
(() => {
  const fmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  const rel = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  function relative(ms) {
    const s = Math.round((ms - Date.now()) / 1000);
    const a = Math.abs(s);
    if (a < 60) return rel.format(s, 'second');
    if (a < 3600) return rel.format(Math.round(s / 60), 'minute');
    if (a < 86400) return rel.format(Math.round(s / 3600), 'hour');
    return rel.format(Math.round(s / 86400), 'day');
  }
  function localizeTimes(root) {
    for (const el of root.querySelectorAll('time[datetime]')) {
      const at = Date.parse(el.getAttribute('datetime'));
      if (Number.isNaN(at)) continue;
      el.title = `${fmt.format(at)} (${el.getAttribute('datetime')})`;
      el.textContent = el.hasAttribute('data-relative') ? relative(at) : fmt.format(at);
    }
  }
  localizeTimes(document);

  // Deadlines (update cadence, checklist items) count down between refreshes.
  function tick() {
    for (const el of document.querySelectorAll('[data-countdown]')) {
      const minutes = Math.round((Number(el.getAttribute('data-countdown')) - Date.now()) / 60000);
      el.textContent = minutes >= 0 ? `in ${minutes} min` : `${-minutes} min overdue`;
    }
  }
  const live = document.querySelectorAll('[data-live]');
  if (live.length > 0 || document.querySelector('[data-countdown]')) setInterval(tick, 15000);

  // Live parts: elements with data-live="<id>" are refreshed from the same page while it is visible.
  // A part holding the keyboard focus is left alone (it is refreshed once focus moves on).
  const typing = () => document.activeElement && ['TEXTAREA', 'INPUT', 'SELECT'].includes(document.activeElement.tagName);
  async function refreshLive() {
    try {
      const res = await fetch(location.href, { headers: { accept: 'text/html' }, credentials: 'same-origin' });
      if (!res.ok) return;
      const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
      for (const el of live) {
        if (el.contains(document.activeElement)) continue;
        const fresh = doc.querySelector(`[data-live="${el.getAttribute('data-live')}"]`);
        if (fresh && fresh.innerHTML !== el.innerHTML) {
          el.innerHTML = fresh.innerHTML;
          localizeTimes(el);
        }
      }
      tick();
    } catch {
      // Offline or server restarting: try again on the next tick.
    }
  }
  if (live.length > 0) {
    setInterval(() => {
      if (document.visibilityState !== 'visible' || typing()) return;
      refreshLive();
    }, 10000);
  }
  let soon = null;
  function refreshSoon() {
    if (soon) return;
    soon = setTimeout(() => {
      soon = null;
      refreshLive();
    }, 300);
  }

  // The incident room's live timeline: server-sent events; each new entry is added (as text) at
  // the top, announced to screen readers, and the room's other parts are refreshed.
  const stream = document.querySelector('[data-stream]');
  if (stream && typeof EventSource === 'function') {
    const state = document.querySelector('[data-stream-state]');
    const announcer = document.querySelector('[data-announce]');
    const url = new URL(stream.getAttribute('data-stream'), location.href);
    const last = stream.getAttribute('data-last-event');
    if (last) url.searchParams.set('last_event_id', last);
    const source = new EventSource(url.href);
    const show = (text) => {
      if (!state) return;
      state.hidden = false;
      state.textContent = text;
    };
    source.addEventListener('open', () => show('Live: new timeline entries appear here as they are written.'));
    source.addEventListener('error', () =>
      show(source.readyState === EventSource.CLOSED ? 'Not live: reload the page to see new entries.' : 'Reconnecting…'),
    );
    source.addEventListener('timeline', (message) => {
      let e;
      try {
        e = JSON.parse(message.data);
      } catch {
        return;
      }
      const list = stream.querySelector('ol.timeline');
      if (!list || list.querySelector(`[data-event-id="${CSS.escape(e.id)}"]`)) return;
      const li = document.createElement('li');
      if (e.public) li.className = 'public';
      li.setAttribute('data-event-type', e.type);
      li.setAttribute('data-event-id', e.id);
      const meta = document.createElement('div');
      meta.className = 'meta';
      const label = document.createElement('strong');
      label.textContent = e.label;
      const time = document.createElement('time');
      time.setAttribute('datetime', e.at);
      time.textContent = e.at;
      meta.append(label, ' · ', time, ` · ${e.actor} · ${e.public ? 'public' : 'internal'}`);
      const body = document.createElement('div');
      body.className = 'body';
      body.textContent = e.text;
      li.append(meta, body);
      localizeTimes(li);
      list.prepend(li);
      if (announcer) announcer.textContent = `${e.label}: ${e.text}`;
      refreshSoon();
    });
    source.addEventListener('panels', refreshSoon);
  }

  // Keyboard shortcuts where a page lists them ([data-shortcuts]): "g" then a panel's key goes to
  // it, "u" writes an update, "n" a note, "?" shows the list. Never while typing in a field.
  const shortcuts = document.querySelector('[data-shortcuts]');
  if (shortcuts) {
    const goTo = (id, field) => {
      const target = document.getElementById(id);
      if (!target) return false;
      const input = field ? document.querySelector(field) : null;
      if (input) {
        input.focus();
        return true;
      }
      if (!target.matches('a, button, input, select, textarea, [tabindex]')) target.setAttribute('tabindex', '-1');
      target.focus();
      target.scrollIntoView({ block: 'start' });
      return true;
    };
    let pending = null;
    document.addEventListener('keydown', (ev) => {
      if (ev.defaultPrevented || ev.ctrlKey || ev.metaKey || ev.altKey) return;
      const t = ev.target;
      if (t && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName))) return;
      if (pending) {
        clearTimeout(pending);
        pending = null;
        const link = [...shortcuts.querySelectorAll('a[data-key]')].find((a) => a.getAttribute('data-key') === ev.key);
        if (link && goTo(link.getAttribute('href').slice(1))) ev.preventDefault();
        return;
      }
      if (ev.key === 'g') {
        pending = setTimeout(() => {
          pending = null;
        }, 1500);
        ev.preventDefault();
      } else if (ev.key === 'u') {
        if (goTo('composer', '#update-message')) ev.preventDefault();
      } else if (ev.key === 'n') {
        if (goTo('note', '#note-message')) ev.preventDefault();
      } else if (ev.key === '?') {
        const details = shortcuts.querySelector('details');
        if (details) {
          details.open = !details.open;
          details.querySelector('summary')?.focus();
          ev.preventDefault();
        }
      }
    });
  }

  for (const form of document.querySelectorAll('form[data-confirm]')) {
    form.addEventListener('submit', (e) => {
      if (!confirm(form.getAttribute('data-confirm'))) e.preventDefault();
    });
  }
})();
