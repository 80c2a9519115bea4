/* Keepwarm fallback mirror: search, extra order lines, order pre-fill and the chat menu.
   Zero dependencies; every page works without it. Text is inserted with textContent only. */
(() => {
  const $ = (sel, root) => (root || document).querySelector(sel);
  const el = (tag, text, attrs) => {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    return node;
  };
  const params = new URLSearchParams(location.search);

  // The header search box keeps what was searched.
  const box = $('#q');
  if (box && params.get('q')) box.value = params.get('q');

  // Search page: load the index shards (MiniSearch), then answer as the buyer types.
  const page = $('[data-search-index]');
  if (page) {
    const status = $('.search-status', page);
    const list = $('.results', page);
    const root = page.getAttribute('data-root') || './';
    let shards = null;
    const loadScript = (src) =>
      new Promise((resolve, reject) => {
        const s = el('script', null, { src });
        s.onload = resolve;
        s.onerror = () => reject(new Error('search script did not load'));
        document.head.appendChild(s);
      });
    const load = async () => {
      if (shards) return shards;
      const indexUrl = page.getAttribute('data-search-index');
      const [meta] = await Promise.all([
        fetch(indexUrl).then((r) => {
          if (!r.ok) throw new Error(`search index: HTTP ${r.status}`);
          return r.json();
        }),
        window.MiniSearch ? null : loadScript(page.getAttribute('data-minisearch')),
      ]);
      const base = new URL('./', new URL(indexUrl, location.href));
      const texts = await Promise.all(
        meta.shards.map((name) =>
          fetch(new URL(name, base)).then((r) => {
            if (!r.ok) throw new Error(`search shard: HTTP ${r.status}`);
            return r.text();
          }),
        ),
      );
      shards = texts.map((t) => window.MiniSearch.loadJSON(t, meta.options));
      return shards;
    };
    const show = (q) => {
      list.textContent = '';
      if (!q.trim()) {
        status.textContent = 'Type in the search box above.';
        return;
      }
      status.textContent = 'Searching…';
      load()
        .then((all) => {
          const opts = { prefix: true, fuzzy: 0.15, combineWith: 'AND', boost: { name: 3, sku: 3, brand: 2 } };
          const run = (o) =>
            all
              .flatMap((s) => s.search(q, o))
              .sort((a, b) => b.score - a.score)
              .slice(0, 50);
          // One word with a digit or a separator ("LGT-3", "shl100") reads as a SKU: when some SKUs
          // start with it, list exactly those, not every product with a spec value starting "3".
          const word = q.trim().toLowerCase();
          const skuLike = !/\s/.test(word) && /[0-9\-_./]/.test(word);
          const bySku = skuLike
            ? run({ ...opts, fuzzy: false, filter: (r) => String(r.sku).toLowerCase().startsWith(word) })
            : [];
          const hits = bySku.length > 0 ? bySku : run(opts);
          status.textContent =
            hits.length === 0
              ? `No products match “${q}”.`
              : `${hits.length === 50 ? 'First 50' : hits.length} result${hits.length === 1 ? '' : 's'} for “${q}”.`;
          for (const hit of hits) {
            const li = el('li');
            const h = el('h2');
            const a = el('a', hit.name, { href: root + hit.url });
            h.appendChild(a);
            li.appendChild(h);
            li.appendChild(
              el('p', `${hit.brand ? `${hit.brand} · ` : ''}SKU ${hit.sku}${hit.price ? ` · ${hit.price}` : ''}`, {
                class: 'meta',
              }),
            );
            list.appendChild(li);
          }
        })
        .catch(() => {
          status.textContent = 'Search is unavailable: browse the categories in the menu.';
        });
    };
    show(params.get('q') || '');
    if (box) {
      let timer = 0;
      box.addEventListener('input', () => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          history.replaceState(null, '', `?q=${encodeURIComponent(box.value)}`);
          show(box.value);
        }, 150);
      });
      box.form?.addEventListener('submit', (e) => {
        e.preventDefault();
        show(box.value);
      });
    }
  }

  // Order page: pre-fill a line from ?sku=&product=, and add lines on demand.
  const lines = $('[data-order-lines] tbody');
  if (lines) {
    if (params.get('sku')) {
      const first = $('tr', lines);
      $('input[name="sku[]"]', first).value = params.get('sku');
      $('input[name="product[]"]', first).value = params.get('product') || '';
      $('input[name="qty[]"]', first).value = params.get('qty') || '1';
    }
    const add = el('button', 'Add a line', { type: 'button', class: 'add-line' });
    add.addEventListener('click', () => {
      const rows = lines.querySelectorAll('tr');
      const row = rows[rows.length - 1].cloneNode(true);
      const n = rows.length + 1;
      for (const input of row.querySelectorAll('input')) {
        input.value = '';
        input.id = input.id.replace(/\d+$/, String(n));
      }
      for (const label of row.querySelectorAll('label')) {
        label.htmlFor = label.htmlFor.replace(/\d+$/, String(n));
        label.textContent = label.textContent.replace(/\d+$/, String(n));
      }
      lines.appendChild(row);
      $('input', row).focus();
    });
    lines.closest('table').after(add);
  }

  // Chat menu: Keepwarm's outage menu when it answers, else the contact links stay the way.
  const chat = $('[data-chat]');
  if (chat && window.fetch) {
    const endpoint = chat.getAttribute('data-chat');
    const log = $('.chat-log', chat);
    const down = $('.chat-down', chat);
    const form = $('.chat-form', chat);
    let session = '';
    try {
      session = sessionStorage.getItem('keepwarm-chat') || '';
    } catch (_) {}
    if (!/^[A-Za-z0-9_-]{8,128}$/.test(session)) {
      const bytes = new Uint8Array(16);
      crypto.getRandomValues(bytes);
      session = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
      try {
        sessionStorage.setItem('keepwarm-chat', session);
      } catch (_) {}
    }
    const say = (who, text) => {
      const li = el('li', text, { class: who });
      log.appendChild(li);
    };
    const send = async (text) => {
      const ctrl = new AbortController();
      const timer = setTimeout(() => ctrl.abort(), 5000);
      try {
        const res = await fetch(endpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ session, text }),
          credentials: 'omit',
          signal: ctrl.signal,
        });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const answer = await res.json();
        if (typeof answer.reply !== 'string') throw new Error('no reply');
        return answer.reply;
      } finally {
        clearTimeout(timer);
      }
    };
    const fail = () => {
      form.hidden = true;
      down.hidden = false;
      chat.hidden = false;
    };
    chat.hidden = false;
    let opened = false;
    const open = () => {
      if (opened) return;
      opened = true;
      send('menu').then((reply) => say('them', reply), fail);
    };
    $('input', form).addEventListener('focus', open);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const input = $('input', form);
      const text = input.value.trim();
      if (!text) return;
      say('me', text);
      input.value = '';
      opened = true;
      send(text).then((reply) => say('them', reply), fail);
    });
  }
})();
