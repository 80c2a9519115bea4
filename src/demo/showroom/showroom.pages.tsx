import type { CatalogCategory, CatalogProduct, CatalogSnapshotFile } from '../../catalog/product.js';
import { type Child, h, renderDocument, type SafeHtml } from '../../console/html.js';
import { ENTRY_POINTS } from './entry-points.js';

/** What every showroom page needs to embed Keepwarm's scripts. */
export interface PageContext {
  siteName: string;
  /** Keepwarm's base URL, as buyers' browsers reach it. */
  keepwarmUrl: string;
  /** The public site key of the events SDK (null: the events script is left out). */
  siteKey: string | null;
  /** banner.json URLs in order (Keepwarm's first). */
  bannerUrls: string[];
  bannerPollSeconds: number;
  /** The signed-in buyer's email (from the sign-in cookie), or null. */
  buyer: string | null;
}

export const CONFIGURATOR_SCRIPT = `${ENTRY_POINTS['third-party'].prefix}configurator.js`;

export function productPath(sku: string): string {
  return `/products/${encodeURIComponent(sku)}`;
}

export function imagePath(sku: string): string {
  return `${ENTRY_POINTS.cdn.prefix}img/${encodeURIComponent(sku)}.svg`;
}

function Layout(props: { ctx: PageContext; title: string; children?: Child; scripts?: Child }): SafeHtml {
  const { ctx } = props;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · ${ctx.siteName}`}</title>
        <link rel="stylesheet" href="/assets/showroom.css" />
        <link rel="icon" href="/assets/logo.svg" type="image/svg+xml" />
      </head>
      <body data-buyer={ctx.buyer ?? undefined}>
        <header class="top">
          <a class="brand" href="/">
            <img src="/assets/logo.svg" alt="" width="32" height="32" />
            {ctx.siteName}
          </a>
          <nav aria-label="Main">
            <a href="/">Products</a>
            {ctx.buyer ? (
              <form method="post" action="/auth/sign-out">
                <span class="muted">{`Signed in as ${ctx.buyer}`}</span>{' '}
                <button type="submit" class="link">
                  Sign out
                </button>
              </form>
            ) : (
              <a href="/auth/sign-in">Sign in</a>
            )}
          </nav>
        </header>
        <main>{props.children}</main>
        <footer>
          <p>{`${ctx.siteName} digital showroom (a Keepwarm demo). Prices exclude tax.`}</p>
        </footer>
        <script src="/assets/showroom.js" defer></script>
        {props.scripts}
        <script
          src={`${ctx.keepwarmUrl}/sdk/keepwarm-banner.js`}
          data-urls={ctx.bannerUrls.join(' ')}
          data-poll={String(ctx.bannerPollSeconds)}
          async
        ></script>
        {ctx.siteKey ? (
          <script
            src={`${ctx.keepwarmUrl}/sdk/keepwarm-events.js`}
            data-key={ctx.siteKey}
            data-endpoints={`${ctx.keepwarmUrl}/api/v1/events/browser`}
            async
          ></script>
        ) : null}
      </body>
    </html>
  );
}

function categoryLabel(categories: CatalogCategory[], code: string): string {
  return categories.find((c) => c.code === code)?.label ?? code;
}

/** The categories that hold at least one product, in catalog order. */
export function usedCategories(snapshot: CatalogSnapshotFile): CatalogCategory[] {
  const used = new Set(snapshot.products.flatMap((p) => p.categories));
  const known = snapshot.categories.filter((c) => used.has(c.code));
  return known;
}

export function listPage(
  ctx: PageContext,
  snapshot: CatalogSnapshotFile | null,
  filter: { category: string | null; q: string | null },
): string {
  const products = (snapshot?.products ?? []).filter(
    (p) =>
      (filter.category === null || p.categories.includes(filter.category)) &&
      (filter.q === null || `${p.name} ${p.brand ?? ''} ${p.sku}`.toLowerCase().includes(filter.q.toLowerCase())),
  );
  const categories = snapshot ? usedCategories(snapshot) : [];
  const heading = filter.category && snapshot ? categoryLabel(snapshot.categories, filter.category) : 'All products';
  return renderDocument(
    <Layout ctx={ctx} title={heading}>
      <h1>{heading}</h1>
      <search>
        <form method="get" action="/">
          <label for="q">Search products</label>
          <input id="q" name="q" type="search" value={filter.q ?? ''} />
          {filter.category ? <input type="hidden" name="category" value={filter.category} /> : null}
          <button type="submit">Search</button>
        </form>
      </search>
      {categories.length > 0 ? (
        <ul class="filters" aria-label="Categories">
          <li>
            <a href="/" aria-current={filter.category === null ? 'page' : undefined}>
              All
            </a>
          </li>
          {categories.map((c) => (
            <li>
              <a href={`/?category=${encodeURIComponent(c.code)}`} aria-current={filter.category === c.code ? 'page' : undefined}>
                {c.label}
              </a>
            </li>
          ))}
        </ul>
      ) : null}
      {snapshot === null ? (
        <p class="notice">The catalog is empty: import one into Keepwarm (keepwarm import catalog FILE).</p>
      ) : products.length === 0 ? (
        <p>No products match.</p>
      ) : (
        <ul class="grid" aria-label="Products">
          {products.map((p) => (
            <li class="card">
              <img src={imagePath(p.sku)} alt="" width="400" height="240" loading="lazy" />
              <h2>
                <a href={productPath(p.sku)}>{p.name}</a>
              </h2>
              <span class="muted">{p.brand ?? ''}</span>
              <span class="price" data-price-for={p.sku}>
                Loading price…
              </span>
            </li>
          ))}
        </ul>
      )}
    </Layout>,
  );
}

export function productPage(ctx: PageContext, snapshot: CatalogSnapshotFile, product: CatalogProduct): string {
  const categories = product.categories.map((c) => categoryLabel(snapshot.categories, c));
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  return renderDocument(
    <Layout ctx={ctx} title={product.name} scripts={<script src={CONFIGURATOR_SCRIPT} async></script>}>
      <p class="muted">
        <a href="/">Products</a>
        {categories.length > 0 ? ` › ${categories.join(' › ')}` : ''}
      </p>
      <article class="product" data-product-sku={product.sku} data-product-name={product.name}>
        <div>
          <img src={imagePath(product.sku)} alt={product.name} width="400" height="240" />
          <section class="panel" aria-labelledby="cfg-title">
            <h2 id="cfg-title">Configure</h2>
            <div class="configurator" data-configurator="#quote-options" data-state="loading">
              Loading the 3D configurator…
            </div>
          </section>
        </div>
        <div>
          <h1>{product.name}</h1>
          <p class="muted">{[product.brand, `SKU ${product.sku}`].filter(Boolean).join(' · ')}</p>
          <p class="price" id="price" data-state="loading">
            Loading price…
          </p>
          <p id="availability" class="muted"></p>
          {product.description ? product.description.split(/\n{2,}/).map((para) => <p>{para}</p>) : null}
          <section class="panel" aria-labelledby="quote-title">
            <h2 id="quote-title">Request a quote</h2>
            <form id="quote-form" method="post" action="/api/quote">
              <input type="hidden" name="sku" value={product.sku} />
              <input type="hidden" id="quote-options" name="options" value="{}" />
              <label for="quantity">Quantity</label>
              <input id="quantity" name="quantity" type="number" min="1" max="1000" value="10" required />
              <button type="submit">Add to quote</button>
            </form>
            <p id="quote-result" role="status"></p>
          </section>
          <section class="panel" aria-labelledby="demo-title">
            <h2 id="demo-title">Book a live demo</h2>
            <form id="demo-form" method="post" action="/demo-request" novalidate>
              <input type="hidden" name="sku" value={product.sku} />
              <label for="demo-email">Work email</label>
              <input id="demo-email" name="email" type="email" autocomplete="email" value={ctx.buyer ?? ''} required />
              <label for="demo-date">Preferred day</label>
              <input id="demo-date" name="date" type="date" value={tomorrow} />
              <button type="submit">Request a demo</button>
            </form>
            <p id="demo-result" role="status"></p>
          </section>
          {product.attributes.length > 0 ? (
            <section class="panel" aria-labelledby="specs-title">
              <h2 id="specs-title">Specifications</h2>
              <table class="specs">
                <tbody>
                  {product.attributes.map((a) => (
                    <tr>
                      <th scope="row">{a.label}</th>
                      <td>{a.unit ? `${a.value} ${a.unit}` : a.value}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </section>
          ) : null}
        </div>
      </article>
    </Layout>,
  );
}

export function signInPage(
  ctx: PageContext,
  options: { next: string; email?: string; error?: string | null; sampleBuyers: string[] },
): string {
  return renderDocument(
    <Layout ctx={ctx} title="Sign in">
      <h1>Sign in</h1>
      <p>Sign in to see your account prices and saved quotes.</p>
      {options.error ? (
        <p class="notice" role="alert" id="sign-in-error">
          {options.error}
        </p>
      ) : null}
      <form method="post" action="/auth/sign-in">
        <input type="hidden" name="next" value={options.next} />
        <label for="email">Work email</label>
        <input
          id="email"
          name="email"
          type="email"
          autocomplete="email"
          required
          value={options.email ?? ''}
          aria-describedby={options.error ? 'sign-in-error' : undefined}
        />
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required />
        <button type="submit">Sign in</button>
      </form>
      {options.sampleBuyers.length > 0 ? (
        <section class="panel" aria-labelledby="demo-buyers">
          <h2 id="demo-buyers">Demo buyers</h2>
          <p class="muted">These are leads in the demo CRM (any password works): their events are matched to them.</p>
          <ul>
            {options.sampleBuyers.map((email) => (
              <li>
                <code>{email}</code>
              </li>
            ))}
          </ul>
        </section>
      ) : null}
    </Layout>,
  );
}

export function messagePage(ctx: PageContext, title: string, message: string): string {
  return renderDocument(
    <Layout ctx={ctx} title={title}>
      <h1>{title}</h1>
      <p>{message}</p>
      <p>
        <a href="/">Back to the products</a>
      </p>
    </Layout>,
  );
}

/** What a broken CDN edge or gateway answers: a bare error page, no showroom styling. */
export function edgeErrorPage(status: number, what: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${status} Service Unavailable</title></head><body><h1>${status} Service Unavailable</h1><p>${what} is not answering. Please try again later.</p></body></html>`;
}
