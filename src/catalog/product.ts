/**
 * The catalog's product, as every importer produces it and every consumer (mirror build, spec
 * sheets, comparison matrices, the read-only catalog API) reads it. Plain data, JSON-serialisable,
 * one locale (the catalog's primary one). Add fields; never rename them (snapshots are stored as
 * this shape).
 */
export interface CatalogProduct {
  /** Stable identifier (PIM identifier, Shopify handle/variant SKU, Merchant id). */
  sku: string;
  name: string;
  /** Plain text (HTML from the source is reduced to text with paragraph breaks). */
  description: string;
  brand: string | null;
  /** Category codes, most specific last; labels are in the snapshot's category list. */
  categories: string[];
  /** Variants of one product share a group (Shopify handle, Merchant item_group_id). */
  group: string | null;
  price: { amount: string; currency: string } | null;
  availability: 'in_stock' | 'out_of_stock' | 'preorder' | 'backorder' | null;
  gtin: string | null;
  mpn: string | null;
  /** Absolute http(s) URLs. */
  images: string[];
  /** The product's page on the live showroom, when known. */
  url: string | null;
  /** Specification attributes in source order: label, value as text, unit when separate. */
  attributes: Array<{ code: string; label: string; value: string; unit: string | null }>;
  /** ISO-8601, when the source says. */
  updated_at: string | null;
}

export interface CatalogCategory {
  code: string;
  parent: string | null;
  label: string;
}

/** A problem found while importing: names the file, the row (1-based, header = 1) or item, and the field. */
export interface CatalogIssue {
  level: 'error' | 'warning';
  file: string;
  /** Row number in a CSV/TSV (header is row 1) or item index (1-based) in JSON/XML. */
  row: number | null;
  field: string | null;
  message: string;
}

/** A catalog snapshot as a file: what `keepwarm catalog-api --snapshot FILE` and the mirror build read. */
export interface CatalogSnapshotFile {
  version: 1;
  id: string;
  /** ISO-8601. */
  created_at: string;
  source: string;
  categories: CatalogCategory[];
  products: CatalogProduct[];
}

/**
 * A snapshot written to a file: what the standalone read-only catalog API and the tests read.
 * Written by the catalog import (writeSnapshotFile / `keepwarm catalog export-snapshot`).
 */
export interface CatalogSnapshotFile {
  version: 1;
  id: string;
  /** ISO-8601. */
  created_at: string;
  /** Where the data came from (the imported file's name and format). */
  source: string;
  categories: CatalogCategory[];
  products: CatalogProduct[];
}
