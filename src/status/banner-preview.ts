import type { Router } from '../app/router.js';
import { escapeHtml } from '../console/html.js';
import { BROWSER_EVENTS_PATH, EVENTS_SDK_PATH } from '../crm/events.routes.js';
import { BANNER_PATH, SDK_PATH } from './banner.routes.js';

/**
 * A stand-in showroom page that embeds the banner script exactly as a showroom would, so marketing
 * and the commander see what buyers see (and the demo shows it). Strict CSP: the script and the
 * banner document come from this origin; the SDK's styles need no inline style.
 */
export function registerBannerPreview(r: Router, pageName: string, eventsKey: string | null = null): void {
  // With a site key for this origin (crm.events.sites), the page also embeds the events SDK.
  const events = eventsKey
    ? `<h2>Intent events</h2>
<p>The events script is embedded too. These buttons send intent events; they are kept in this browser while Keepwarm is unreachable and delivered once when it is back (see Events in the console).</p>
<p><button type="button" data-kw-event="product_viewed" data-kw-product="Chiller X200">View Chiller X200</button>
<button type="button" data-kw-event="cart_updated" data-kw-product="Chiller X200" data-kw-value="18500">Add to cart ($18,500)</button>
<button type="button" data-kw-event="demo_booked">Book a demo</button></p>
<pre>${escapeHtml(`<script src="${EVENTS_SDK_PATH}" data-key="${eventsKey}" async></script>`)}</pre>
`
    : '';
  const eventsScript = eventsKey
    ? `<script src="${EVENTS_SDK_PATH}" data-key="${escapeHtml(eventsKey)}" data-endpoints="${BROWSER_EVENTS_PATH}" async></script>\n`
    : '';
  const body = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Banner preview · ${escapeHtml(pageName)}</title>
</head>
<body>
<main>
<h1>Your showroom</h1>
<p>This page stands in for a showroom page. It embeds the banner script with one tag:</p>
<pre>${escapeHtml(`<script src="${SDK_PATH}" data-urls="${BANNER_PATH}" async></script>`)}</pre>
<p>While an incident is open, the banner appears above; it leaves when the incident is resolved. It checks every 10 seconds here.</p>
${events}</main>
<script src="${SDK_PATH}" data-urls="${BANNER_PATH}" data-poll="10" async></script>
${eventsScript}</body>
</html>
`;
  r.route({
    method: 'GET',
    url: '/status/banner-preview',
    summary: 'A stand-in showroom page with the banner script embedded: what buyers see',
    tags: ['status'],
    access: 'public',
    responses: { 200: { description: 'HTML page', contentType: 'text/html' } },
    async handler({ reply }) {
      return reply
        .header('content-type', 'text/html; charset=utf-8')
        .header(
          'content-security-policy',
          "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        )
        .header('cache-control', 'no-cache')
        .send(body);
    },
  });
}
