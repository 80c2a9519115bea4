/**
 * SMS length facts, pure. A message whose every character is in the GSM 03.38 alphabet is sent
 * as GSM-7: 160 septets in a single message, 153 per part once it is split (the rest of each part
 * carries the concatenation header). Characters of the extension table (€ [ ] { } | ^ ~ \ and
 * form feed) take two septets (escape + character). One character outside the alphabet — a curly
 * quote, a non-breaking hyphen, an emoji — makes the whole message UCS-2: 70 UTF-16 code units
 * single, 67 per part, and an emoji is two code units (a surrogate pair, never split).
 */

/** GSM 03.38 basic character set, in table order (0x1B, the escape, is not a character). */
const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
/** GSM 03.38 extension table: each costs two septets. */
const GSM_EXTENSION = '\f^{}\\[~]|€';

const BASIC = new Set(GSM_BASIC);
const EXTENSION = new Set(GSM_EXTENSION);

export const GSM_SINGLE = 160;
export const GSM_PART = 153;
export const UCS2_SINGLE = 70;
export const UCS2_PART = 67;

export type SmsEncoding = 'GSM-7' | 'UCS-2';

export interface NonGsmCharacter {
  char: string;
  /** U+2019 */
  code_point: string;
  /** How often it occurs. */
  count: number;
  /** A GSM-7 replacement that keeps the meaning ('' means: delete it), or null when there is none. */
  suggestion: string | null;
}

export interface SmsFacts {
  encoding: SmsEncoding;
  /** Characters as people count them (code points). */
  characters: number;
  /** Septets (GSM-7) or UTF-16 code units (UCS-2): what the limits count. */
  units: number;
  segments: number;
  /** The limit for one part at this length: 160/70 single, 153/67 per part. */
  per_segment: number;
  /** Units left in the last part before another part starts. */
  remaining: number;
  /** Characters that take two septets in GSM-7 (€ [ ] { } | ^ ~ \). */
  extension_characters: string[];
  /** Characters that forced UCS-2, with suggested replacements. */
  non_gsm: NonGsmCharacter[];
  /** The text with every suggestion applied (only when it is GSM-7 afterwards and differs). */
  gsm_suggestion: string | null;
}

/** Suggested GSM-7 replacements for common characters word processors and phones insert. */
const REPLACEMENTS: Record<string, string> = {
  '\u2018': "'", // ‘
  '\u2019': "'", // ’
  '\u201A': "'", // ‚
  '\u201B': "'", // ‛
  '\u2032': "'", // ′
  '\u00B4': "'", // ´
  '`': "'",
  '\u201C': '"', // “
  '\u201D': '"', // ”
  '\u201E': '"', // „
  '\u201F': '"', // ‟
  '\u2033': '"', // ″
  '\u00AB': '"', // «
  '\u00BB': '"', // »
  '\u2010': '-', // hyphen
  '\u2011': '-', // non-breaking hyphen
  '\u2012': '-', // figure dash
  '\u2013': '-', // en dash
  '\u2014': '-', // em dash
  '\u2015': '-', // horizontal bar
  '\u2212': '-', // minus sign
  '\u00AD': '', // soft hyphen
  '\u2026': '...', // …
  '\u00A0': ' ', // no-break space
  '\u2002': ' ',
  '\u2003': ' ',
  '\u2007': ' ',
  '\u2008': ' ',
  '\u2009': ' ', // thin space
  '\u200A': ' ',
  '\u202F': ' ', // narrow no-break space
  '\u3000': ' ',
  '\t': ' ',
  '\u200B': '', // zero-width space
  '\u200C': '',
  '\u200D': '',
  '\u2060': '',
  '\uFEFF': '',
  '\u2022': '-', // •
  '\u00B7': '.', // ·
  '\u2122': '(TM)',
  '\u00A9': '(c)',
  '\u00AE': '(R)',
  '\u00D7': 'x', // ×
  '\u00F7': '/', // ÷
  '\u00BD': '1/2',
  '\u00BC': '1/4',
  '\u00BE': '3/4',
  '\u2192': '->',
  '\u2190': '<-',
  '\u00E7': 'c', // ç (only the capital Ç is in GSM-7)
  '\u00B0': ' deg',
};

export function isGsmCharacter(ch: string): boolean {
  return BASIC.has(ch) || EXTENSION.has(ch);
}

/** A GSM-7 replacement for one character, '' to delete it, or null when there is none. */
export function suggestReplacement(ch: string): string | null {
  const known = REPLACEMENTS[ch];
  if (known !== undefined) return known;
  // A lone combining accent (text typed in decomposed form): drop it, keep the letter before it.
  if (/^\p{M}$/u.test(ch)) return '';
  // Accented letters outside the alphabet: the bare letter (á → a), when that is GSM-7.
  const bare = ch.normalize('NFD').replace(/\p{M}+/gu, '');
  if (bare !== ch && bare !== '' && [...bare].every(isGsmCharacter)) return bare;
  return null;
}

function codePoint(ch: string): string {
  return `U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Number of parts for a sequence of unit costs, never splitting one character across parts. */
function countSegments(costs: readonly number[], total: number, single: number, part: number): number {
  if (total <= single) return 1;
  let segments = 1;
  let used = 0;
  for (const cost of costs) {
    if (used + cost > part) {
      segments++;
      used = 0;
    }
    used += cost;
  }
  return segments;
}

/** Encoding, length, parts and offending characters of one SMS text. */
export function smsFacts(text: string): SmsFacts {
  const chars = [...text];
  const offending = new Map<string, number>();
  const extension = new Set<string>();
  for (const ch of chars) {
    if (EXTENSION.has(ch)) extension.add(ch);
    else if (!BASIC.has(ch)) offending.set(ch, (offending.get(ch) ?? 0) + 1);
  }
  const gsm = offending.size === 0;
  const costs = gsm ? chars.map((ch) => (EXTENSION.has(ch) ? 2 : 1)) : chars.map((ch) => ch.length);
  const units = costs.reduce((a, b) => a + b, 0);
  const single = gsm ? GSM_SINGLE : UCS2_SINGLE;
  const part = gsm ? GSM_PART : UCS2_PART;
  const segments = countSegments(costs, units, single, part);
  const perSegment = segments === 1 ? single : part;
  const remaining = segments === 1 ? single - units : remainingInLast(costs, part);
  const nonGsm: NonGsmCharacter[] = [...offending].map(([char, count]) => ({
    char,
    code_point: codePoint(char),
    count,
    suggestion: suggestReplacement(char),
  }));
  let gsmSuggestion: string | null = null;
  if (!gsm && nonGsm.every((c) => c.suggestion !== null)) {
    const replaced = applySuggestions(text);
    if ([...replaced].every(isGsmCharacter)) gsmSuggestion = replaced;
  }
  return {
    encoding: gsm ? 'GSM-7' : 'UCS-2',
    characters: chars.length,
    units,
    segments,
    per_segment: perSegment,
    remaining,
    extension_characters: [...extension],
    non_gsm: nonGsm,
    gsm_suggestion: gsmSuggestion,
  };
}

function remainingInLast(costs: readonly number[], part: number): number {
  let used = 0;
  for (const cost of costs) {
    if (used + cost > part) used = 0;
    used += cost;
  }
  return part - used;
}

/** Replace every character that has a GSM-7 suggestion; others are kept. */
export function applySuggestions(text: string): string {
  let out = '';
  for (const ch of text) {
    if (isGsmCharacter(ch)) {
      out += ch;
      continue;
    }
    const s = suggestReplacement(ch);
    out += s ?? ch;
  }
  return out;
}

/** One line for people: "GSM-7, 142/160 characters, 1 part" or the UCS-2 story. */
export function describeSms(facts: SmsFacts): string {
  const parts = `${facts.segments} part${facts.segments === 1 ? '' : 's'}`;
  if (facts.encoding === 'GSM-7') {
    return `GSM-7, ${facts.units} septets (${facts.segments === 1 ? `limit ${GSM_SINGLE}` : `${GSM_PART} per part`}), ${parts}`;
  }
  const culprits = facts.non_gsm.map((c) => `${c.code_point} ${c.char}`).join(', ');
  return `UCS-2 because of ${culprits}: ${facts.units} code units (${facts.segments === 1 ? `limit ${UCS2_SINGLE}` : `${UCS2_PART} per part`}), ${parts}`;
}
