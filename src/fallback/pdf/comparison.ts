/**
 * Comparison matrix of N products of one category: rows are the commercial fields then every
 * attribute any of them has (first-seen order, matched by attribute code), columns are the
 * products. Rendered as an HTML table (every text escaped), a CSV file (safe to open in a
 * spreadsheet) and a landscape PDF (five products per page band).
 */
import type { CatalogCategory, CatalogProduct } from '../../catalog/product.js';
import { escapeHtml } from '../../console/html.js';
import { defuseCsvCell } from '../../core/csv.js';
import { A4, FONT, FONT_BOLD, formatGeneratedAt, PdfWriter } from './document.js';
import { formatAttributeValue, formatAvailability, formatPrice } from './format.js';
import type { RenderedPdf } from './spec-sheet.js';

export interface ComparisonMatrix {
  category: CatalogCategory;
  /** Column headings: product name and SKU. */
  products: Array<{ sku: string; name: string; url: string | null }>;
  /** One row per compared field; cells[i] belongs to products[i]; null when the product lacks it. */
  rows: Array<{ label: string; cells: Array<string | null> }>;
}

/** Pure: the matrix of the given products (in the order given). */
export function buildComparison(category: CatalogCategory, products: readonly CatalogProduct[]): ComparisonMatrix {
  const rows: ComparisonMatrix['rows'] = [
    { label: 'Brand', cells: products.map((p) => p.brand) },
    { label: 'SKU', cells: products.map((p) => p.sku) },
    { label: 'GTIN', cells: products.map((p) => p.gtin) },
    { label: 'MPN', cells: products.map((p) => p.mpn) },
    { label: 'Price', cells: products.map((p) => formatPrice(p.price)) },
    { label: 'Availability', cells: products.map((p) => formatAvailability(p.availability)) },
  ];
  const byCode = new Map<string, { label: string; cells: Array<string | null> }>();
  products.forEach((product, column) => {
    for (const attribute of product.attributes) {
      let row = byCode.get(attribute.code);
      if (row === undefined) {
        row = { label: attribute.label, cells: products.map(() => null) };
        byCode.set(attribute.code, row);
        rows.push(row);
      }
      if (row.cells[column] === null) row.cells[column] = formatAttributeValue(attribute);
    }
  });
  return {
    category,
    products: products.map((p) => ({ sku: p.sku, name: p.name, url: p.url })),
    rows: rows.filter((row) => row.cells.some((cell) => cell !== null && cell !== '')),
  };
}

const MISSING = '\u2014';

/** A `<table>` fragment for a mirror page: caption, column and row headers, everything escaped. */
export function renderComparisonHtml(matrix: ComparisonMatrix): string {
  const head = matrix.products
    .map((p) => `<th scope="col">${escapeHtml(p.name)}<br><span class="sku">${escapeHtml(p.sku)}</span></th>`)
    .join('');
  const body = matrix.rows
    .map((row) => {
      const cells = row.cells.map((cell) =>
        cell === null ? `<td class="missing">${MISSING}</td>` : `<td>${escapeHtml(cell)}</td>`,
      );
      return `<tr><th scope="row">${escapeHtml(row.label)}</th>${cells.join('')}</tr>`;
    })
    .join('\n');
  return [
    '<table class="comparison">',
    `<caption>Comparison: ${escapeHtml(matrix.category.label)}</caption>`,
    `<thead><tr><th scope="col">Specification</th>${head}</tr></thead>`,
    `<tbody>\n${body}\n</tbody>`,
    '</table>',
  ].join('\n');
}

/** Formula-looking cells are defused ("-5" becomes "'-5" too: a comparison sheet is for reading). */
export { defuseCsvCell };

function csvField(value: string): string {
  const safe = defuseCsvCell(value);
  return /[",\r\n]/.test(safe) || /^\s|\s$/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** RFC 4180 CSV (CRLF, quoted when needed) with a UTF-8 byte order mark so spreadsheets read accents. */
export function renderComparisonCsv(matrix: ComparisonMatrix): string {
  const lines = [['Specification', ...matrix.products.map((p) => `${p.name} (${p.sku})`)]];
  for (const row of matrix.rows) lines.push([row.label, ...row.cells.map((cell) => cell ?? '')]);
  return `\ufeff${lines.map((line) => line.map(csvField).join(',')).join('\r\n')}\r\n`;
}

export interface ComparisonPdfOptions {
  fallbackUrl: string;
  contact: string;
  generatedAt: Date;
  /** Products side by side on one page band; more make further bands. */
  productsPerPage?: number;
}

/** Landscape A4; each page shows up to productsPerPage products and as many rows as fit, continuing on later pages. */
export function renderComparisonPdf(matrix: ComparisonMatrix, options: ComparisonPdfOptions): RenderedPdf {
  const w = new PdfWriter({ title: `Comparison: ${matrix.category.label}`, generatedAt: options.generatedAt }, 'landscape');
  const doc = w.doc;
  const pageWidth = A4.height;
  const pageHeight = A4.width;
  const margin = 40;
  const labelWidth = 150;
  const rowHeight = 15;
  const footerTop = pageHeight - 40;
  const perPage = Math.max(1, Math.min(8, options.productsPerPage ?? 5));
  let pages = 0;

  const pageHeader = (products: ComparisonMatrix['products'], colWidth: number): number => {
    if (pages > 0) doc.addPage({ size: 'A4', layout: 'landscape', margins: { top: 40, left: 40, right: 40, bottom: 16 } });
    pages++;
    doc.font(FONT_BOLD).fontSize(14).fillColor('#111111');
    w.line(`Comparison: ${matrix.category.label}`, margin, margin, pageWidth - 2 * margin);
    doc.font(FONT).fontSize(8).fillColor('#555555');
    w.line(
      `${options.contact}  \u00b7  ${options.fallbackUrl}  \u00b7  Generated ${formatGeneratedAt(options.generatedAt)}  \u00b7  Page ${pages}`,
      margin,
      footerTop,
      pageWidth - 2 * margin,
    );
    let y = margin + 26;
    doc.font(FONT_BOLD).fontSize(9).fillColor('#111111');
    products.forEach((p, i) => {
      const x = margin + labelWidth + i * colWidth;
      w.line(p.name, x, y, colWidth - 6);
      doc.font(FONT).fillColor('#555555');
      w.line(p.sku, x, y + 11, colWidth - 6);
      doc.font(FONT_BOLD).fillColor('#111111');
    });
    y += 28;
    doc
      .moveTo(margin, y - 4)
      .lineTo(pageWidth - margin, y - 4)
      .lineWidth(0.5)
      .strokeColor('#cccccc')
      .stroke();
    return y;
  };

  for (let start = 0; start < Math.max(1, matrix.products.length); start += perPage) {
    const products = matrix.products.slice(start, start + perPage);
    const colWidth = (pageWidth - 2 * margin - labelWidth) / Math.max(1, products.length);
    let y = pageHeader(products, colWidth);
    matrix.rows.forEach((row, index) => {
      if (y + rowHeight > footerTop - 8) y = pageHeader(products, colWidth);
      if (index % 2 === 0) doc.rect(margin, y - 3, pageWidth - 2 * margin, rowHeight).fill('#f2f2f2');
      doc.font(FONT_BOLD).fontSize(9).fillColor('#111111');
      w.line(row.label, margin + 4, y, labelWidth - 8);
      doc.font(FONT);
      products.forEach((_, i) => {
        const cell = row.cells[start + i] ?? null;
        w.line(cell ?? MISSING, margin + labelWidth + i * colWidth, y, colWidth - 6);
      });
      y += rowHeight;
    });
  }
  return { pdf: w.finish(), unsupportedCharacters: w.unsupportedCharacters, pages };
}
