import type { FastifyReply } from 'fastify';
import type { Actor } from '../app/actor.js';
import { can } from '../app/roles.js';
import { toIso } from '../core/clock.js';
import { assetUrl } from './assets.js';
import { type Child, h, renderDocument, type SafeHtml } from './html.js';

/** Strict CSP for every console page: only our own scripts, styles and form targets. */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

export function sendPage(reply: FastifyReply, page: SafeHtml, status = 200): FastifyReply {
  return reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('content-security-policy', CONSOLE_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'same-origin')
    .header('x-frame-options', 'DENY')
    .header('cache-control', 'no-store')
    .send(renderDocument(page));
}

const NAV: ReadonlyArray<{ href: string; label: string; show: (a: Actor) => boolean }> = [
  { href: '/console/incidents', label: 'Incidents', show: (a) => can(a.role, 'incidents.read') },
  { href: '/console/health', label: 'Health', show: (a) => can(a.role, 'monitors.read') },
  { href: '/console/drills', label: 'Drills', show: (a) => can(a.role, 'incidents.read') },
  { href: '/console/leads', label: 'Leads', show: (a) => can(a.role, 'leads.read') },
  { href: '/console/tasks', label: 'My tasks', show: (a) => can(a.role, 'tasks.work') },
  { href: '/console/events', label: 'Events', show: (a) => can(a.role, 'leads.read') },
  { href: '/console/fallback', label: 'Fallback', show: (a) => can(a.role, 'catalog.read') },
  { href: '/console/orders', label: 'Orders', show: (a) => can(a.role, 'orders.read') },
  { href: '/console/credits', label: 'Credits', show: (a) => can(a.role, 'credits.read') },
  { href: '/console/components', label: 'Components', show: (a) => can(a.role, 'components.read') },
  { href: '/console/monitors', label: 'Monitors', show: (a) => can(a.role, 'monitors.read') },
  { href: '/console/templates', label: 'Templates', show: (a) => can(a.role, 'templates.read') },
  { href: '/console/outbox', label: 'Outbox', show: (a) => can(a.role, 'messages.read') },
  { href: '/console/subscribers', label: 'Subscribers', show: (a) => can(a.role, 'subscribers.read') },
  { href: '/console/audit', label: 'Audit log', show: (a) => can(a.role, 'audit.read') },
  { href: '/console/privacy', label: 'Privacy', show: (a) => can(a.role, 'privacy.manage') },
];

export function CsrfField({ actor }: { actor: Actor }): SafeHtml {
  return <input type="hidden" name="_csrf" value={actor.csrfToken ?? ''} />;
}

export function Time({ at, relative }: { at: number | null; relative?: boolean }): SafeHtml {
  if (at === null) return <span class="muted">—</span>;
  const iso = toIso(at);
  return (
    <time datetime={iso} data-relative={relative ? '' : undefined}>
      {iso.replace('T', ' ').slice(0, 16)} UTC
    </time>
  );
}

export function Badge({ value, label, prefix = 's' }: { value: string; label?: string; prefix?: string }): SafeHtml {
  return <span class={`badge ${prefix}-${value}`}>{label ?? value.replaceAll('_', ' ')}</span>;
}

export function Notice({ kind, children }: { kind: 'ok' | 'error'; children?: Child }): SafeHtml {
  return (
    <div class={`notice ${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      {children}
    </div>
  );
}

export function Layout(props: { title: string; actor: Actor | null; active?: string; children?: Child }): SafeHtml {
  const { actor } = props;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{props.title} · Keepwarm</title>
        <link rel="icon" type="image/svg+xml" href={assetUrl('favicon.svg')} />
        <link rel="stylesheet" href={assetUrl('console.css')} />
        <script src={assetUrl('console.js')} defer></script>
      </head>
      <body>
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header class="top">
          <a class="brand" href="/console">
            Keepwarm
          </a>
          {actor ? (
            <nav aria-label="Main">
              {NAV.filter((n) => n.show(actor)).map((n) => (
                <a href={n.href} aria-current={props.active === n.href ? 'page' : undefined}>
                  {n.label}
                </a>
              ))}
              <a href="/status">Status page</a>
              <a href="/api/openapi.json">API</a>
            </nav>
          ) : (
            <nav aria-label="Main"></nav>
          )}
          {actor ? (
            <div class="who">
              <span>
                {actor.name} <span class="muted">({actor.role})</span>
              </span>
              <form method="post" action="/logout">
                <CsrfField actor={actor} />
                <button type="submit">Sign out</button>
              </form>
            </div>
          ) : null}
        </header>
        <main id="main">{props.children}</main>
      </body>
    </html>
  );
}

export function ErrorPage({ status, message, actor }: { status: number; message: string; actor: Actor | null }): SafeHtml {
  return (
    <Layout title={`Error ${status}`} actor={actor}>
      <h1>{status === 404 ? 'Not found' : status === 403 ? 'Not allowed' : 'Something went wrong'}</h1>
      <Notice kind="error">{message}</Notice>
      <p>
        <a href="/console">Back to the console</a>
      </p>
    </Layout>
  );
}

/** A page for people without a session (unsubscribe, subscription, order answers): no nav, no script. */
export function PublicLayout(props: { title: string; children?: Child }): SafeHtml {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex" />
        <title>{props.title}</title>
        <link rel="stylesheet" href={assetUrl('console.css')} />
      </head>
      <body>
        <main id="main">
          <div class="login panel">{props.children}</div>
        </main>
      </body>
    </html>
  );
}
