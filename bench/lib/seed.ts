import type { KeepwarmServer } from './keepwarm.js';

/** What a status page looks like in the middle of an outage: six components, two open incidents. */
export async function seedOutage(kw: KeepwarmServer): Promise<void> {
  const components: Array<{ name: string; kind: string; group?: string; description?: string }> = [
    { name: 'Showroom CDN', kind: 'cdn', group: 'Digital showroom', description: 'Edge delivery of showroom pages and media' },
    { name: 'Showroom origin', kind: 'origin', group: 'Digital showroom', description: 'Server-rendered product pages' },
    { name: 'Product API', kind: 'api', group: 'Digital showroom', description: 'Catalog, pricing and availability' },
    { name: '3D configurator', kind: 'third_party', group: 'Digital showroom', description: 'Embedded product configurator' },
    { name: 'Sign-in (SSO)', kind: 'auth', group: 'Accounts', description: 'Buyer sign-in and account pages' },
    { name: 'Checkout and quotes', kind: 'checkout', group: 'Accounts', description: 'Carts, quotes and orders' },
  ];
  const ids = new Map<string, string>();
  for (const c of components) ids.set(c.name, (await kw.api<{ id: string }>('POST', '/api/v1/components', c)).id);
  const id = (name: string) => ids.get(name) as string;

  const api = await kw.api<{ id: string }>('POST', '/api/v1/incidents', {
    name: 'Product pages slow or failing for EU buyers',
    message:
      'We are investigating elevated error rates and slow responses on product pages and the Product API for buyers in Europe. ' +
      'Cached showroom pages keep being served.',
    components: [
      { id: id('Product API'), status: 'partial_outage' },
      { id: id('Showroom origin'), status: 'degraded_performance' },
    ],
  });
  await kw.api('POST', `/api/v1/incidents/${api.id}/updates`, {
    status: 'identified',
    message:
      'The cause is a saturated database connection pool behind the Product API in eu-west. We are adding capacity and ' +
      'shedding non-essential traffic.',
  });
  await kw.api('POST', `/api/v1/incidents/${api.id}/updates`, {
    status: 'monitoring',
    message: 'Capacity has been added and error rates are back to normal. We are monitoring response times.',
    components: [
      { id: id('Product API'), status: 'degraded_performance' },
      { id: id('Showroom origin'), status: 'operational' },
    ],
  });

  const configurator = await kw.api<{ id: string }>('POST', '/api/v1/incidents', {
    name: '3D configurator unavailable',
    message: 'The embedded 3D configurator does not load. Product pages show the static image gallery instead.',
    components: [{ id: id('3D configurator'), status: 'major_outage' }],
  });
  await kw.api('POST', `/api/v1/incidents/${configurator.id}/updates`, {
    status: 'identified',
    message: 'The configurator vendor confirmed an outage of their hosting region and is failing over.',
  });
}
