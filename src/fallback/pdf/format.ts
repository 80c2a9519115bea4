/** How products' commercial fields are written on sheets, tables and CSV files (pure). */
import type { CatalogProduct } from '../../catalog/product.js';

export const AVAILABILITY_LABELS: Record<NonNullable<CatalogProduct['availability']>, string> = {
  in_stock: 'In stock',
  out_of_stock: 'Out of stock',
  preorder: 'Pre-order',
  backorder: 'Backorder',
};

export function formatPrice(price: CatalogProduct['price']): string {
  if (price === null) return 'Price on request';
  return `${price.amount} ${price.currency}`;
}

export function formatAvailability(availability: CatalogProduct['availability']): string {
  return availability === null ? 'Availability unknown' : AVAILABILITY_LABELS[availability];
}

export function formatAttributeValue(attribute: CatalogProduct['attributes'][number]): string {
  return attribute.unit ? `${attribute.value} ${attribute.unit}` : attribute.value;
}
