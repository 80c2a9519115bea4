/**
 * One-page spec sheet per product and a multi-page product pack per category (pdfkit, built-in
 * Helvetica, no images: nothing is fetched while building). Same input → same bytes.
 */
import type { CatalogCategory, CatalogProduct } from '../../catalog/product.js';
import { A4, excerpt, FONT, FONT_BOLD, formatGeneratedAt, PdfWriter } from './document.js';
import { formatAttributeValue, formatAvailability, formatPrice } from './format.js';

export interface SpecSheetOptions {
  /** The fallback showroom's address, printed on every page. */
  fallbackUrl: string;
  /** e.g. "Questions or orders: sales@example.com · +49 30 1234567". */
  contact: string;
  /** Printed on the sheet and stored as the PDF's creation date (pass the snapshot's date for stable bytes). */
  generatedAt: Date;
  /** Where this product lives on the fallback mirror; default: the fallback URL. */
  productUrl?: (product: CatalogProduct) => string;
}

export interface RenderedPdf {
  pdf: Buffer;
  /** Characters Helvetica cannot show (non-Latin scripts, emoji), printed as '?'. */
  unsupportedCharacters: number;
  pages: number;
}

const MARGIN = 48;
const CONTENT_WIDTH = A4.width - 2 * MARGIN;
const FOOTER_TOP = A4.height - 78;
const LABEL_WIDTH = 180;
const ROW_HEIGHT = 15;
const GREY = '#555555';
const INK = '#111111';
const RULE = '#cccccc';
const ZEBRA = '#f2f2f2';

function drawFooter(w: PdfWriter, options: SpecSheetOptions, pageLabel: string | null): void {
  const doc = w.doc;
  doc
    .moveTo(MARGIN, FOOTER_TOP)
    .lineTo(A4.width - MARGIN, FOOTER_TOP)
    .lineWidth(0.5)
    .strokeColor(RULE)
    .stroke();
  doc.font(FONT).fontSize(8).fillColor(GREY);
  w.line(options.contact, MARGIN, FOOTER_TOP + 8, CONTENT_WIDTH);
  w.line(`Fallback showroom: ${options.fallbackUrl}`, MARGIN, FOOTER_TOP + 20, CONTENT_WIDTH);
  const generated = `Generated ${formatGeneratedAt(options.generatedAt)}; prices and availability as of that time.`;
  w.line(pageLabel ? `${generated}   ${pageLabel}` : generated, MARGIN, FOOTER_TOP + 32, CONTENT_WIDTH);
}

/** Draws one product on the current page. */
function drawProduct(w: PdfWriter, product: CatalogProduct, options: SpecSheetOptions, pageLabel: string | null): void {
  const doc = w.doc;
  let y = MARGIN;
  if (product.brand) {
    doc.font(FONT_BOLD).fontSize(9).fillColor(GREY);
    w.line(product.brand.toUpperCase(), MARGIN, y, CONTENT_WIDTH);
    y += 14;
  }
  doc.font(FONT_BOLD).fontSize(18).fillColor(INK);
  doc.text(w.fold(product.name), MARGIN, y, { width: CONTENT_WIDTH, height: 46, ellipsis: true });
  y = Math.min(doc.y, y + 46) + 6;

  const ids = [`SKU: ${product.sku}`];
  if (product.gtin) ids.push(`GTIN: ${product.gtin}`);
  if (product.mpn) ids.push(`MPN: ${product.mpn}`);
  doc.font(FONT).fontSize(9).fillColor(GREY);
  w.line(ids.join('    '), MARGIN, y, CONTENT_WIDTH);
  y += 18;

  doc.font(FONT_BOLD).fontSize(13).fillColor(INK);
  w.line(`${formatPrice(product.price)}  \u00b7  ${formatAvailability(product.availability)}`, MARGIN, y, CONTENT_WIDTH);
  y += 24;

  const description = excerpt(product.description, 700);
  if (description !== '') {
    doc.font(FONT).fontSize(10).fillColor(INK);
    doc.text(w.fold(description), MARGIN, y, { width: CONTENT_WIDTH, height: 130, ellipsis: true, lineGap: 1 });
    y = Math.min(doc.y, y + 130) + 12;
  }

  doc.font(FONT_BOLD).fontSize(11).fillColor(INK);
  w.line('Specifications', MARGIN, y, CONTENT_WIDTH);
  y += 17;

  const limit = FOOTER_TOP - 12;
  const attributes = product.attributes;
  const room = Math.max(0, Math.floor((limit - y) / ROW_HEIGHT));
  // When not everything fits, the last row says how many more there are and where to find them.
  const shown = attributes.length <= room ? attributes.length : Math.max(0, room - 1);
  if (attributes.length === 0) {
    doc.font(FONT).fontSize(9).fillColor(GREY);
    w.line('No specifications listed.', MARGIN, y, CONTENT_WIDTH);
  }
  doc.fontSize(9);
  for (let i = 0; i < shown; i++) {
    const attribute = attributes[i] as CatalogProduct['attributes'][number];
    if (i % 2 === 0) doc.rect(MARGIN, y - 3, CONTENT_WIDTH, ROW_HEIGHT).fill(ZEBRA);
    doc.font(FONT_BOLD).fillColor(INK);
    w.line(attribute.label, MARGIN + 4, y, LABEL_WIDTH - 8);
    doc.font(FONT);
    w.line(formatAttributeValue(attribute), MARGIN + LABEL_WIDTH, y, CONTENT_WIDTH - LABEL_WIDTH - 4);
    y += ROW_HEIGHT;
  }
  if (shown < attributes.length) {
    const where = options.productUrl ? options.productUrl(product) : options.fallbackUrl;
    doc.font(FONT).fontSize(9).fillColor(GREY);
    w.line(`+ ${attributes.length - shown} more specifications at ${where}`, MARGIN + 4, y, CONTENT_WIDTH - 8);
  }
  drawFooter(w, options, pageLabel);
}

export function renderSpecSheetReport(product: CatalogProduct, options: SpecSheetOptions): RenderedPdf {
  const w = new PdfWriter({
    title: `${product.name} (${product.sku})`,
    subject: 'Spec sheet',
    generatedAt: options.generatedAt,
  });
  drawProduct(w, product, options, null);
  return { pdf: w.finish(), unsupportedCharacters: w.unsupportedCharacters, pages: 1 };
}

/** One A4 page: name, brand, identifiers, price and availability, description excerpt, attributes, contact. */
export function renderSpecSheet(product: CatalogProduct, options: SpecSheetOptions): Buffer {
  return renderSpecSheetReport(product, options).pdf;
}

/**
 * A category's products in one PDF: a cover page listing them (name, SKU, price), then one page
 * per product laid out like its spec sheet. Products are taken in the order given.
 */
export function renderProductPack(
  category: CatalogCategory,
  products: readonly CatalogProduct[],
  options: SpecSheetOptions,
): RenderedPdf {
  const w = new PdfWriter({ title: `${category.label}: product pack`, generatedAt: options.generatedAt });
  const doc = w.doc;
  const total = products.length + 1;
  doc.font(FONT_BOLD).fontSize(22).fillColor(INK);
  doc.text(w.fold(category.label), MARGIN, MARGIN, { width: CONTENT_WIDTH, height: 56, ellipsis: true });
  doc.font(FONT).fontSize(10).fillColor(GREY);
  doc.text(`${products.length} product${products.length === 1 ? '' : 's'}`, MARGIN, MARGIN + 60, { lineBreak: false });
  let y = MARGIN + 86;
  const limit = FOOTER_TOP - 12;
  const room = Math.floor((limit - y) / ROW_HEIGHT);
  const listed = products.length <= room ? products.length : room - 1;
  doc.fontSize(9);
  for (let i = 0; i < listed; i++) {
    const product = products[i] as CatalogProduct;
    if (i % 2 === 0) doc.rect(MARGIN, y - 3, CONTENT_WIDTH, ROW_HEIGHT).fill(ZEBRA);
    doc.font(FONT_BOLD).fillColor(INK);
    w.line(product.name, MARGIN + 4, y, 260);
    doc.font(FONT);
    w.line(product.sku, MARGIN + 270, y, 110);
    w.line(formatPrice(product.price), MARGIN + 385, y, CONTENT_WIDTH - 389);
    y += ROW_HEIGHT;
  }
  if (listed < products.length) {
    doc
      .font(FONT)
      .fillColor(GREY)
      .text(`+ ${products.length - listed} more in this pack`, MARGIN + 4, y, { lineBreak: false });
  }
  drawFooter(w, options, `Page 1 of ${total}`);
  products.forEach((product, index) => {
    doc.addPage();
    drawProduct(w, product, options, `Page ${index + 2} of ${total}`);
  });
  return { pdf: w.finish(), unsupportedCharacters: w.unsupportedCharacters, pages: total };
}
