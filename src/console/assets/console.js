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

  // Update deadlines count down between refreshes.
  function tick() {
    for (const el of document.querySelectorAll('[data-countdown]')) {
      const minutes = Math.round((Number(el.getAttribute('data-countdown')) - Date.now()) / 60000);
      el.textContent = minutes >= 0 ? `in ${minutes} min` : `${-minutes} min overdue`;
    }
  }
  if (document.querySelector('[data-countdown]')) setInterval(tick, 15000);

  // Live parts: elements with data-live="<id>" are refreshed from the same page while it is visible.
  const live = document.querySelectorAll('[data-live]');
  if (live.length > 0) {
    setInterval(async () => {
      if (document.visibilityState !== 'visible') return;
      if (document.activeElement && ['TEXTAREA', 'INPUT', 'SELECT'].includes(document.activeElement.tagName)) return;
      try {
        const res = await fetch(location.href, { headers: { accept: 'text/html' }, credentials: 'same-origin' });
        if (!res.ok) return;
        const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
        for (const el of live) {
          const fresh = doc.querySelector(`[data-live="${el.getAttribute('data-live')}"]`);
          if (fresh && fresh.innerHTML !== el.innerHTML) {
            el.innerHTML = fresh.innerHTML;
            localizeTimes(el);
          }
        }
      } catch {
        // Offline or server restarting: try again on the next tick.
      }
    }, 10000);
  }

  for (const form of document.querySelectorAll('form[data-confirm]')) {
    form.addEventListener('submit', (e) => {
      if (!confirm(form.getAttribute('data-confirm'))) e.preventDefault();
    });
  }
})();
