import { expect, test } from 'vitest';
import { useTestContext } from '../../../test/harness/context.js';
import { describeEachDialect } from '../../../test/harness/databases.js';

const CSV = `sku,name,brand,price,currency,category,description
SHELF-200,Modular shelving S-200,Acme,129.00,EUR,shelving,Steel shelving for showrooms
LIGHT-9,Track lighting TL-9,Lumo,89.50,EUR,lighting,Dimmable track light
`;

describeEachDialect('read-only catalog API inside Keepwarm', (dialect) => {
  const ctx = useTestContext(dialect);

  test('before any import: 503 with Retry-After; after one: the products, by SKU, with ETags; a new import is served at once', async () => {
    const empty = await ctx().call('GET', '/catalog/v1/products');
    expect(empty.statusCode).toBe(503);
    expect(empty.headers['retry-after']).toBe('60');

    const admin = await ctx().token('admin');
    const mapping = encodeURIComponent(
      JSON.stringify({
        sku: 'sku',
        name: 'name',
        brand: 'brand',
        price: 'price',
        currency: 'currency',
        category: 'category',
        description: 'description',
      }),
    );
    const imported = await ctx().call('POST', `/api/v1/catalog/imports?format=generic-csv&mapping=${mapping}`, {
      token: admin,
      body: CSV,
      headers: { 'content-type': 'text/csv' },
    });
    expect(imported.statusCode, imported.body).toBeLessThan(300);

    const list = await ctx().call('GET', '/catalog/v1/products?q=shelving');
    expect(list.statusCode).toBe(200);
    expect(list.json().products.map((p: { sku: string }) => p.sku)).toEqual(['SHELF-200']);
    const one = await ctx().call('GET', '/catalog/v1/products/LIGHT-9');
    expect(one.json().product).toMatchObject({ sku: 'LIGHT-9', name: 'Track lighting TL-9' });
    const etag = one.headers.etag as string;
    const again = await ctx().call('GET', '/catalog/v1/products/LIGHT-9', { headers: { 'if-none-match': etag } });
    expect(again.statusCode).toBe(304);

    const changed = await ctx().call('POST', `/api/v1/catalog/imports?format=generic-csv&mapping=${mapping}`, {
      token: admin,
      body: CSV.replace('89.50', '79.00'),
      headers: { 'content-type': 'text/csv' },
    });
    expect(changed.statusCode, changed.body).toBeLessThan(300);
    const after = await ctx().call('GET', '/catalog/v1/products/LIGHT-9', { headers: { 'if-none-match': etag } });
    expect(after.statusCode).toBe(200);
    expect(after.json().product.price).toEqual({ amount: '79.00', currency: 'EUR' });
  });
});
