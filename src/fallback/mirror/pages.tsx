/**
 * The mirror's pages: semantic HTML, every text escaped (the JSX renderer escapes by default),
 * links relative to the page, no third-party request (no remote images, fonts or scripts). Each
 * page works without JavaScript; the script adds search, extra order lines and the chat menu.
 */
import type { CatalogCategory, CatalogProduct } from '../../catalog/product.js';
import { type Child, Fragment, h, raw, renderDocument, type SafeHtml } from '../../console/html.js';
import type { ComparisonMatrix } from '../pdf/comparison.js';
import { renderComparisonHtml } from '../pdf/comparison.js';
import { formatAttributeValue, formatAvailability, formatPrice } from '../pdf/format.js';
import { relativeUrl } from './paths.js';

/** Everything a page needs besides its own content. */
export interface SiteContext {
  title: string;
  /** The mirror's public address (null: unknown; forms then say which page by path). */
  siteUrl: string | null;
  /** Absolute URL the order forms post to (Keepwarm's public endpoint, on another host). */
  orderEndpoint: string;
  /** Keepwarm's chat endpoint for the outage menu; null: contact links only. */
  chatEndpoint: string | null;
  statusUrl: string | null;
  bannerUrls: readonly string[];
  contact: { email: string | null; phone: string | null };
  /** The catalog's date, shown on every page ("prices as of"). */
  asOf: string;
  /** Hashed asset paths from the site root. */
  assets: { css: string; js: string; search: string; banner: string };
  /** Top-level categories for the navigation. */
  nav: ReadonlyArray<{ code: string; label: string; path: string }>;
  csp: string;
}

export interface Crumb {
  label: string;
  path: string;
}

function Layout(props: {
  site: SiteContext;
  path: string;
  title: string;
  crumbs?: Crumb[];
  children?: Child;
  canonical?: string | null;
}): SafeHtml {
  const { site, path } = props;
  const to = (target: string) => relativeUrl(path, target);
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta http-equiv="Content-Security-Policy" content={site.csp} />
        <meta name="referrer" content="strict-origin-when-cross-origin" />
        <title>{props.title === site.title ? site.title : `${props.title} · ${site.title}`}</title>
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href={to(site.assets.css)} />
        {props.canonical ? <link rel="canonical" href={props.canonical} /> : null}
        <script src={to(site.assets.js)} defer></script>
        {site.bannerUrls.length > 0 ? (
          <script src={to(site.assets.banner)} data-urls={site.bannerUrls.join(' ')} data-poll="60" async></script>
        ) : null}
      </head>
      <body>
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header class="site">
          <p class="notice" role="note">
            You are on the backup catalog: browsing, spec sheets and purchase orders work here while the interactive showroom is
            unavailable. Prices and availability as of {site.asOf}.
            {site.statusUrl ? (
              <Fragment>
                {' '}
                <a href={site.statusUrl}>Service status</a>
              </Fragment>
            ) : null}
          </p>
          <div class="bar">
            <a class="brand" href={to('index.html')}>
              {site.title}
            </a>
            <search>
              <form class="search" action={to('search/index.html')} method="get">
                <label for="q">Search products</label>
                <input id="q" name="q" type="search" autocomplete="off" placeholder="Name, SKU, brand…" />
                <button type="submit">Search</button>
              </form>
            </search>
            <a class="order-link" href={to('order/index.html')}>
              Purchase order
            </a>
          </div>
          <nav aria-label="Categories">
            <ul>
              {site.nav.map((c) => (
                <li>
                  <a href={to(c.path)}>{c.label}</a>
                </li>
              ))}
            </ul>
          </nav>
        </header>
        {props.crumbs && props.crumbs.length > 0 ? (
          <nav class="crumbs" aria-label="Breadcrumb">
            <ol>
              {props.crumbs.map((c) => (
                <li>
                  <a href={to(c.path)}>{c.label}</a>
                </li>
              ))}
              <li aria-current="page">{props.title}</li>
            </ol>
          </nav>
        ) : null}
        <main id="main">{props.children}</main>
        <footer class="site">
          <Contact site={site} path={path} />
        </footer>
      </body>
    </html>
  );
}

/** Where a form was sent from: the page's address, so sales and the thank-you page can link back to it. */
function sourceOf(site: SiteContext, path: string): string {
  const page = path.replace(/index\.html$/, '');
  return site.siteUrl ? `${site.siteUrl.replace(/\/$/, '')}/${page}` : page;
}

/** Contact links (always there), and the chat menu the script turns on when Keepwarm answers. */
function Contact(props: { site: SiteContext; path: string }): SafeHtml {
  const { contact, chatEndpoint } = props.site;
  return (
    <section class="contact" aria-labelledby="contact-title">
      <h2 id="contact-title">Talk to sales</h2>
      <ul class="contact-links">
        {contact.email ? (
          <li>
            Email <a href={`mailto:${contact.email}`}>{contact.email}</a>
          </li>
        ) : null}
        {contact.phone ? (
          <li>
            Call <a href={`tel:${contact.phone.replace(/[^0-9+]/g, '')}`}>{contact.phone}</a>
          </li>
        ) : null}
        <li>
          <a href={relativeUrl(props.path, 'order/index.html')}>Send a purchase order</a>
        </li>
      </ul>
      {chatEndpoint ? (
        <div class="chat" data-chat={chatEndpoint} hidden>
          <h3>Chat</h3>
          <ol class="chat-log" aria-live="polite"></ol>
          <form class="chat-form">
            <label for="chat-text">Message</label>
            <input id="chat-text" name="text" maxlength="1000" autocomplete="off" placeholder="Type 1, 2 or 3, or a question" />
            <button type="submit">Send</button>
          </form>
          <p class="chat-down" hidden>
            Chat is unavailable right now: please use the email or phone above.
          </p>
        </div>
      ) : null}
    </section>
  );
}

function Price(props: { product: CatalogProduct }): SafeHtml {
  const { product } = props;
  return (
    <p class="price">
      <span>{formatPrice(product.price)}</span>{' '}
      <span class={`avail ${product.availability ?? 'unknown'}`}>{formatAvailability(product.availability)}</span>
    </p>
  );
}

export interface ProductCard {
  sku: string;
  name: string;
  brand: string | null;
  price: CatalogProduct['price'];
  availability: CatalogProduct['availability'];
  path: string;
}

function Cards(props: { from: string; cards: readonly ProductCard[] }): SafeHtml {
  return (
    <ul class="cards">
      {props.cards.map((c) => (
        <li>
          <h3>
            <a href={relativeUrl(props.from, c.path)}>{c.name}</a>
          </h3>
          <p class="meta">
            {c.brand ? `${c.brand} · ` : ''}SKU {c.sku}
          </p>
          <p class="price">
            {formatPrice(c.price)} · {formatAvailability(c.availability)}
          </p>
        </li>
      ))}
    </ul>
  );
}

const page = (root: SafeHtml) => renderDocument(root);

export function HomePage(props: {
  site: SiteContext;
  products: number;
  categories: ReadonlyArray<{
    label: string;
    path: string;
    count: number;
    children: ReadonlyArray<{ label: string; path: string; count: number }>;
  }>;
}): string {
  const path = 'index.html';
  const to = (p: string) => relativeUrl(path, p);
  return page(
    <Layout site={props.site} path={path} title={props.site.title}>
      <h1>{props.site.title}</h1>
      <p>
        {props.products} products in {props.categories.length} categories, with spec sheets to download and an offline purchase
        order form.
      </p>
      <section aria-labelledby="cats">
        <h2 id="cats">Categories</h2>
        <ul class="categories">
          {props.categories.map((c) => (
            <li>
              <a href={to(c.path)}>{c.label}</a> <span class="count">({c.count})</span>
              {c.children.length > 0 ? (
                <ul>
                  {c.children.map((s) => (
                    <li>
                      <a href={to(s.path)}>{s.label}</a> <span class="count">({s.count})</span>
                    </li>
                  ))}
                </ul>
              ) : null}
            </li>
          ))}
        </ul>
      </section>
    </Layout>,
  );
}

export function CategoryPage(props: {
  site: SiteContext;
  path: string;
  category: CatalogCategory;
  crumbs: Crumb[];
  subcategories: ReadonlyArray<{ label: string; path: string; count: number }>;
  cards: readonly ProductCard[];
  total: number;
  page: number;
  pages: ReadonlyArray<string>;
  comparisons: ReadonlyArray<{ label: string; path: string }>;
  packs: ReadonlyArray<{ label: string; path: string }>;
}): string {
  const { path } = props;
  const to = (p: string) => relativeUrl(path, p);
  const title = props.page > 1 ? `${props.category.label} (page ${props.page})` : props.category.label;
  return page(
    <Layout site={props.site} path={path} title={title} crumbs={props.crumbs}>
      <h1>{title}</h1>
      <p>
        {props.total} product{props.total === 1 ? '' : 's'}
      </p>
      {props.subcategories.length > 0 ? (
        <nav aria-label="Sub-categories">
          <ul class="categories">
            {props.subcategories.map((s) => (
              <li>
                <a href={to(s.path)}>{s.label}</a> <span class="count">({s.count})</span>
              </li>
            ))}
          </ul>
        </nav>
      ) : null}
      {props.comparisons.length > 0 || props.packs.length > 0 ? (
        <section class="downloads" aria-labelledby="compare-title">
          <h2 id="compare-title">Compare and download</h2>
          <ul>
            {props.comparisons.map((c) => (
              <li>
                <a href={to(c.path)}>{c.label}</a>
              </li>
            ))}
            {props.packs.map((p) => (
              <li>
                <a href={to(p.path)} type="application/pdf" download>
                  {p.label}
                </a>
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      <Cards from={path} cards={props.cards} />
      {props.pages.length > 1 ? (
        <nav class="pager" aria-label="Pages">
          <ol>
            {props.pages.map((p, i) => (
              <li>{i + 1 === props.page ? <span aria-current="page">{i + 1}</span> : <a href={to(p)}>{i + 1}</a>}</li>
            ))}
          </ol>
        </nav>
      ) : null}
    </Layout>,
  );
}

function OrderFields(props: { idPrefix: string }): SafeHtml {
  const id = (name: string) => `${props.idPrefix}${name}`;
  return (
    <Fragment>
      <p>
        <label for={id('company')}>Company</label>
        <input id={id('company')} name="company" required maxlength="200" autocomplete="organization" />
      </p>
      <p>
        <label for={id('name')}>Your name</label>
        <input id={id('name')} name="name" required maxlength="200" autocomplete="name" />
      </p>
      <p>
        <label for={id('email')}>Email</label>
        <input id={id('email')} name="email" type="email" required maxlength="320" autocomplete="email" />
      </p>
      <p>
        <label for={id('phone')}>Phone (optional)</label>
        <input id={id('phone')} name="phone" type="tel" maxlength="30" autocomplete="tel" />
      </p>
      <p>
        <label for={id('notes')}>Notes (optional)</label>
        <textarea id={id('notes')} name="notes" rows="3" maxlength="4000"></textarea>
      </p>
    </Fragment>
  );
}

export function ProductPage(props: {
  site: SiteContext;
  path: string;
  product: CatalogProduct;
  crumbs: Crumb[];
  specSheet: string;
  comparison: { label: string; path: string } | null;
}): string {
  const { product, path } = props;
  const to = (p: string) => relativeUrl(path, p);
  const paragraphs = product.description.split(/\n{2,}/).filter((p) => p.trim() !== '');
  return page(
    <Layout site={props.site} path={path} title={product.name} crumbs={props.crumbs}>
      <article class="product" data-sku={product.sku}>
        <h1>{product.name}</h1>
        <p class="meta">
          {product.brand ? `${product.brand} · ` : ''}SKU <span class="sku">{product.sku}</span>
          {product.mpn ? ` · MPN ${product.mpn}` : ''}
          {product.gtin ? ` · GTIN ${product.gtin}` : ''}
        </p>
        <Price product={product} />
        <p class="actions">
          <a class="button" href={to(props.specSheet)} type="application/pdf" download>
            Download the spec sheet (PDF)
          </a>
          {props.comparison ? <a href={to(props.comparison.path)}>{props.comparison.label}</a> : null}
        </p>
        {paragraphs.map((p) => (
          <p>{p}</p>
        ))}
        {product.attributes.length > 0 ? (
          <table class="specs">
            <caption>Specifications</caption>
            <tbody>
              {product.attributes.map((a) => (
                <tr>
                  <th scope="row">{a.label}</th>
                  <td>{formatAttributeValue(a)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
        <section class="order-one" aria-labelledby="order-title">
          <h2 id="order-title">Order this product</h2>
          <p>We confirm every order by email within one business day.</p>
          <form method="post" action={props.site.orderEndpoint} class="order-form">
            <input type="hidden" name="sku" value={product.sku} />
            <input type="hidden" name="product" value={product.name} />
            <input type="hidden" name="source" value={sourceOf(props.site, path)} />
            <p>
              <label for="qty">Quantity</label>
              <input id="qty" name="qty" type="number" min="1" max="100000" value="1" required />
            </p>
            <OrderFields idPrefix="o-" />
            <p>
              <button type="submit">Send the order</button>
            </p>
          </form>
        </section>
      </article>
    </Layout>,
  );
}

export const ORDER_ROWS = 5;

export function OrderPage(props: { site: SiteContext }): string {
  const path = 'order/index.html';
  const rows = Array.from({ length: ORDER_ROWS }, (_, i) => i + 1);
  return page(
    <Layout site={props.site} path={path} title="Purchase order">
      <h1>Purchase order</h1>
      <p>
        Fill in the SKUs and quantities (they are on every product page and spec sheet). Sales confirms every order by email
        within one business day; nothing is charged online.
      </p>
      <form method="post" action={props.site.orderEndpoint} class="order-form" data-order-lines>
        <input type="hidden" name="source" value={sourceOf(props.site, path)} />
        <table class="lines">
          <caption>Order lines</caption>
          <thead>
            <tr>
              <th scope="col">SKU</th>
              <th scope="col">Product (optional)</th>
              <th scope="col">Quantity</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((n) => (
              <tr>
                <td>
                  <label class="visually-hidden" for={`sku-${n}`}>
                    SKU, line {n}
                  </label>
                  <input id={`sku-${n}`} name="sku[]" maxlength="100" />
                </td>
                <td>
                  <label class="visually-hidden" for={`product-${n}`}>
                    Product, line {n}
                  </label>
                  <input id={`product-${n}`} name="product[]" maxlength="300" />
                </td>
                <td>
                  <label class="visually-hidden" for={`qty-${n}`}>
                    Quantity, line {n}
                  </label>
                  <input id={`qty-${n}`} name="qty[]" type="number" min="1" max="100000" />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <OrderFields idPrefix="" />
        <p>
          <button type="submit">Send the order</button>
        </p>
      </form>
    </Layout>,
  );
}

export function SearchPage(props: { site: SiteContext; index: string }): string {
  const path = 'search/index.html';
  return page(
    <Layout site={props.site} path={path} title="Search">
      <h1>Search</h1>
      <div
        class="search-page"
        data-search-index={relativeUrl(path, props.index)}
        data-minisearch={relativeUrl(path, props.site.assets.search)}
        data-root={relativeUrl(path, 'index.html')}
      >
        <p class="search-status" role="status" aria-live="polite">
          Type in the search box above.
        </p>
        <ol class="results"></ol>
      </div>
      <noscript>
        <p>Search needs JavaScript. Browse the categories in the menu instead.</p>
      </noscript>
    </Layout>,
  );
}

export function ComparisonPage(props: {
  site: SiteContext;
  path: string;
  title: string;
  crumbs: Crumb[];
  matrix: ComparisonMatrix;
  csv: string;
  pdf: string;
}): string {
  const to = (p: string) => relativeUrl(props.path, p);
  return page(
    <Layout site={props.site} path={props.path} title={props.title} crumbs={props.crumbs}>
      <h1>{props.title}</h1>
      <p class="actions">
        <a href={to(props.csv)} type="text/csv" download>
          Download as CSV
        </a>{' '}
        <a href={to(props.pdf)} type="application/pdf" download>
          Download as PDF
        </a>
      </p>
      <div class="matrix">{raw(renderComparisonHtml(props.matrix))}</div>
      <ul class="compared">
        {props.matrix.products.map((p) => (
          <li data-sku={p.sku}>{p.name}</li>
        ))}
      </ul>
    </Layout>,
  );
}

/** A page at the live showroom's address of a product, sending the buyer to its mirror page. */
export function AliasPage(props: { path: string; target: string; name: string }): string {
  const href = relativeUrl(props.path, props.target);
  return page(
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta http-equiv="refresh" content={`0; url=${href}`} />
        <meta name="robots" content="noindex" />
        <title>{props.name}</title>
        <link rel="canonical" href={href} />
      </head>
      <body>
        <p>
          <a href={href}>{props.name}</a>
        </p>
      </body>
    </html>,
  );
}

export function NotFoundPage(props: { site: SiteContext }): string {
  return page(
    <Layout site={props.site} path="404.html" title="Not in the backup catalog">
      <h1>This page is not in the backup catalog</h1>
      <p>
        The interactive showroom is unavailable and this page has no copy here. Search above, browse the categories, or contact
        sales below.
      </p>
    </Layout>,
  );
}
