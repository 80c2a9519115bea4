/**
 * The mirror benchmark's catalog as a Hugo site: one content file per product (JSON front matter
 * with the same fields the mirror's product page shows: name, brand, SKU, MPN, GTIN, price,
 * availability, the specification table; the description as the Markdown body), a section per
 * category (top-level and sub-categories, nested like the mirror's tree), and templates that
 * produce HTML comparable to the mirror's: the same layout (notice, search form, category
 * navigation, breadcrumbs, contact footer), product pages with the spec table and order form,
 * category pages of 48 cards with sub-categories and a pager, a home page, a 404 page, the sitemap
 * and robots.txt. Nothing else: no RSS, no taxonomies (the mirror has neither), and no search
 * index (Hugo has none built in).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CatalogSnapshotFile } from '../../src/catalog/product.js';
import type { MirrorSettings } from '../../src/fallback/mirror/plan.js';
import { formatAttributeValue, formatAvailability, formatPrice } from '../../src/fallback/pdf/format.js';

const CONFIG = (settings: MirrorSettings) => `baseURL = ${JSON.stringify(settings.siteUrl ?? 'https://example.com/')}
title = ${JSON.stringify(settings.title)}
languageCode = "en"
disableKinds = ["taxonomy", "term", "RSS"]
enableRobotsTXT = true
paginate = 48
[params]
  orderEndpoint = ${JSON.stringify(settings.orderEndpoint)}
  statusUrl = ${JSON.stringify(settings.statusUrl ?? '')}
  email = ${JSON.stringify(settings.contact.email ?? '')}
  phone = ${JSON.stringify(settings.contact.phone ?? '')}
  asOf = "2026-03-04 09:05 UTC"
`;

const BASEOF = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="referrer" content="strict-origin-when-cross-origin"><title>{{ if .IsHome }}{{ site.Title }}{{ else }}{{ .Title }} · {{ site.Title }}{{ end }}</title><link rel="stylesheet" href="/assets/mirror.css"><script src="/assets/mirror.js" defer></script></head><body><a class="skip" href="#main">Skip to content</a><header class="site"><p class="notice" role="note">You are on the backup catalog: browsing, spec sheets and purchase orders work here while the interactive showroom is unavailable. Prices and availability as of {{ site.Params.asOf }}. <a href="{{ site.Params.statusUrl }}">Service status</a></p><div class="bar"><a class="brand" href="/">{{ site.Title }}</a><search><form class="search" action="/search/" method="get"><label for="q">Search products</label><input id="q" name="q" type="search" autocomplete="off" placeholder="Name, SKU, brand…"><button type="submit">Search</button></form></search><a class="order-link" href="/order/">Purchase order</a></div><nav aria-label="Categories"><ul>{{ range site.Sections.ByTitle }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>{{ end }}</ul></nav></header>{{ if not .IsHome }}<nav class="crumbs" aria-label="Breadcrumb"><ol>{{ range .Ancestors.Reverse }}<li><a href="{{ .RelPermalink }}">{{ if .IsHome }}Home{{ else }}{{ .Title }}{{ end }}</a></li>{{ end }}<li aria-current="page">{{ .Title }}</li></ol></nav>{{ end }}<main id="main">{{ block "main" . }}{{ end }}</main><footer class="site"><section class="contact" aria-labelledby="contact-title"><h2 id="contact-title">Talk to sales</h2><ul class="contact-links"><li>Email <a href="mailto:{{ site.Params.email }}">{{ site.Params.email }}</a></li><li>Call <a href="tel:{{ replaceRE "[^0-9+]" "" site.Params.phone }}">{{ site.Params.phone }}</a></li><li><a href="/order/">Send a purchase order</a></li></ul></section></footer></body></html>
`;

const ORDER_FIELDS = `<p><label for="o-company">Company</label><input id="o-company" name="company" required maxlength="200" autocomplete="organization"></p><p><label for="o-name">Your name</label><input id="o-name" name="name" required maxlength="200" autocomplete="name"></p><p><label for="o-email">Email</label><input id="o-email" name="email" type="email" required maxlength="320" autocomplete="email"></p><p><label for="o-phone">Phone (optional)</label><input id="o-phone" name="phone" type="tel" maxlength="30" autocomplete="tel"></p><p><label for="o-notes">Notes (optional)</label><textarea id="o-notes" name="notes" rows="3" maxlength="4000"></textarea></p>`;

const SINGLE = `{{ define "main" }}<article class="product" data-sku="{{ .Params.sku }}"><h1>{{ .Title }}</h1><p class="meta">{{ with .Params.brand }}{{ . }} · {{ end }}SKU <span class="sku">{{ .Params.sku }}</span>{{ with .Params.mpn }} · MPN {{ . }}{{ end }}{{ with .Params.gtin }} · GTIN {{ . }}{{ end }}</p><p class="price"><span>{{ .Params.price }}</span> <span class="avail {{ .Params.availability_code }}">{{ .Params.availability }}</span></p><p class="actions"><a class="button" href="spec-sheet.pdf" type="application/pdf" download>Download the spec sheet (PDF)</a></p>{{ .Content }}{{ with .Params.specs }}<table class="specs"><caption>Specifications</caption><tbody>{{ range . }}<tr><th scope="row">{{ .label }}</th><td>{{ .value }}</td></tr>{{ end }}</tbody></table>{{ end }}<section class="order-one" aria-labelledby="order-title"><h2 id="order-title">Order this product</h2><p>We confirm every order by email within one business day.</p><form method="post" action="{{ site.Params.orderEndpoint }}" class="order-form"><input type="hidden" name="sku" value="{{ .Params.sku }}"><input type="hidden" name="product" value="{{ .Title }}"><input type="hidden" name="source" value="{{ .RelPermalink }}"><p><label for="qty">Quantity</label><input id="qty" name="qty" type="number" min="1" max="100000" value="1" required></p>${ORDER_FIELDS}<p><button type="submit">Send the order</button></p></form></section></article>{{ end }}
`;

const LIST = `{{ define "main" }}{{ $pager := .Paginate .RegularPagesRecursive.ByTitle }}<h1>{{ .Title }}{{ if gt $pager.PageNumber 1 }} (page {{ $pager.PageNumber }}){{ end }}</h1><p>{{ $pager.TotalNumberOfElements }} products</p>{{ with .Sections }}<nav aria-label="Sub-categories"><ul class="categories">{{ range .ByTitle }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a> <span class="count">({{ len .RegularPagesRecursive }})</span></li>{{ end }}</ul></nav>{{ end }}<ul class="cards">{{ range $pager.Pages }}<li><h3><a href="{{ .RelPermalink }}">{{ .Title }}</a></h3><p class="meta">{{ with .Params.brand }}{{ . }} · {{ end }}SKU {{ .Params.sku }}</p><p class="price">{{ .Params.price }} · {{ .Params.availability }}</p></li>{{ end }}</ul>{{ if gt $pager.TotalPages 1 }}<nav class="pager" aria-label="Pages"><ol>{{ range $pager.Pagers }}<li>{{ if eq .PageNumber $pager.PageNumber }}<span aria-current="page">{{ .PageNumber }}</span>{{ else }}<a href="{{ .URL }}">{{ .PageNumber }}</a>{{ end }}</li>{{ end }}</ol></nav>{{ end }}{{ end }}
`;

const HOME = `{{ define "main" }}<h1>{{ site.Title }}</h1><p>{{ len site.RegularPages }} products in {{ len site.Sections }} categories, with spec sheets to download and an offline purchase order form.</p><section aria-labelledby="cats"><h2 id="cats">Categories</h2><ul class="categories">{{ range site.Sections.ByTitle }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a> <span class="count">({{ len .RegularPagesRecursive }})</span><ul>{{ range .Sections.ByTitle }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a> <span class="count">({{ len .RegularPagesRecursive }})</span></li>{{ end }}</ul></li>{{ end }}</ul></section>{{ end }}
`;

const NOT_FOUND = `{{ define "main" }}<h1>This page is not in the backup catalog</h1><p>The interactive showroom is unavailable and this page has no copy here. Search above, browse the categories, or contact sales below.</p>{{ end }}
`;

export interface HugoSite {
  /** The Hugo project folder (`--source`). */
  source: string;
  contentFiles: number;
}

/** Write the catalog as a Hugo project under dir. */
export async function writeHugoSite(dir: string, snapshot: CatalogSnapshotFile, settings: MirrorSettings): Promise<HugoSite> {
  const layouts = join(dir, 'layouts');
  await mkdir(join(layouts, '_default'), { recursive: true });
  await writeFile(join(dir, 'hugo.toml'), CONFIG(settings));
  await writeFile(join(layouts, '_default', 'baseof.html'), BASEOF);
  await writeFile(join(layouts, '_default', 'single.html'), SINGLE);
  await writeFile(join(layouts, '_default', 'list.html'), LIST);
  await writeFile(join(layouts, 'index.html'), HOME);
  await writeFile(join(layouts, '404.html'), NOT_FOUND);

  // Sections nest as the category tree does: content/<top>/<sub>/.
  const byCode = new Map(snapshot.categories.map((c) => [c.code, c]));
  const sectionDir = (code: string): string => {
    const parts: string[] = [];
    let c = byCode.get(code);
    while (c) {
      parts.unshift(c.code);
      c = c.parent ? byCode.get(c.parent) : undefined;
    }
    return join(dir, 'content', ...parts);
  };
  let contentFiles = 0;
  for (const c of snapshot.categories) {
    const d = sectionDir(c.code);
    await mkdir(d, { recursive: true });
    await writeFile(join(d, '_index.md'), `${JSON.stringify({ title: c.label }, null, 1)}\n`);
    contentFiles++;
  }
  const writes: Array<Promise<void>> = [];
  for (const p of snapshot.products) {
    const leaf = p.categories[p.categories.length - 1] as string;
    const front = {
      title: p.name,
      brand: p.brand,
      sku: p.sku,
      mpn: p.mpn,
      gtin: p.gtin,
      price: formatPrice(p.price),
      availability: formatAvailability(p.availability),
      availability_code: p.availability ?? 'unknown',
      specs: p.attributes.map((a) => ({ label: a.label, value: formatAttributeValue(a) })),
    };
    const body = `${JSON.stringify(front, null, 1)}\n${p.description}\n`;
    writes.push(writeFile(join(sectionDir(leaf), `${p.sku.toLowerCase()}.md`), body));
    contentFiles++;
    if (writes.length >= 64) await Promise.all(writes.splice(0));
  }
  await Promise.all(writes);
  return { source: dir, contentFiles };
}
