/**
 * pdfkit's built-in fonts (Helvetica and friends) are Type 1 fonts with WinAnsiEncoding: they can
 * show Latin-1 plus the 27 extra characters of Windows-1252 (€, curly quotes, dashes, …, ™, Œ, Š,
 * Ž, Ÿ). Anything else would come out as garbage, so text is folded first: accents that Latin-1
 * lacks are dropped (ő → o, ą → a), a few symbols get an ASCII spelling (− → -, ≤ → <=, ł → l),
 * and what is left (CJK, Cyrillic, Greek, emoji) becomes '?'. The count of '?' is reported so a
 * catalog with non-Latin text is noticed instead of silently printed as question marks.
 */

const CP1252_EXTRAS = new Set([
  0x20ac, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x017d, 0x2018, 0x2019, 0x201c,
  0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x017e, 0x0178,
]);

const SPELLED: Record<string, string> = {
  '\u2212': '-',
  '\u2010': '-',
  '\u2011': '-',
  '\u2012': '-',
  '\u2015': '-',
  '\u2264': '<=',
  '\u2265': '>=',
  '\u2260': '!=',
  '\u2248': '~',
  '\u2032': "'",
  '\u2033': '"',
  '\u00a0': ' ',
  '\u2002': ' ',
  '\u2003': ' ',
  '\u2009': ' ',
  '\u202f': ' ',
  '\u200b': '',
  '\u2192': '->',
  '\u2190': '<-',
  '\u2219': '\u00b7',
  '\u0142': 'l',
  '\u0141': 'L',
  '\u0111': 'd',
  '\u0110': 'D',
  '\u0131': 'i',
  '\u0127': 'h',
  '\u0126': 'H',
  '\u1e9e': 'SS',
  '\u2126': 'Ohm',
  '\u03a9': 'Ohm',
  '\u03bc': '\u00b5',
};

export function isWinAnsi(code: number): boolean {
  return (code >= 0x20 && code <= 0x7e) || (code >= 0xa0 && code <= 0xff) || CP1252_EXTRAS.has(code);
}

export interface FoldedText {
  text: string;
  /** Characters that could not be shown and became '?'. */
  replaced: number;
}

const SAFE = /^[\x20-\x7e\n]*$/;

/** Folds text into what Helvetica can show; line breaks are kept, other controls become spaces. */
export function foldToWinAnsi(input: string): FoldedText {
  if (SAFE.test(input)) return { text: input, replaced: 0 };
  let out = '';
  let replaced = 0;
  for (const ch of input) {
    const code = ch.codePointAt(0) as number;
    if (ch === '\n' || isWinAnsi(code)) {
      out += ch;
      continue;
    }
    if (code < 0x20 || (code >= 0x7f && code < 0xa0)) {
      out += ' ';
      continue;
    }
    const spelled = SPELLED[ch];
    if (spelled !== undefined) {
      out += spelled;
      continue;
    }
    // Latin letters with accents Latin-1 lacks: keep the base letter (and any accent it does have).
    const composed = ch.normalize('NFKC');
    if (composed !== ch && [...composed].every((c) => isWinAnsi(c.codePointAt(0) as number))) {
      out += composed;
      continue;
    }
    const base = ch.normalize('NFD').replace(/[\u0300-\u036f]/g, '');
    if (base !== '' && base !== ch && [...base].every((c) => isWinAnsi(c.codePointAt(0) as number))) {
      out += base;
      continue;
    }
    out += '?';
    replaced++;
  }
  return { text: out, replaced };
}
