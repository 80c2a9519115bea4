/**
 * SMS compliance keywords (pure). Twilio's standard English keywords, matched the way carriers and
 * Twilio do: the whole message is the keyword, case-insensitive, surrounding whitespace ignored.
 * Keepwarm is a little more tolerant at the edges (punctuation, emoji, full-width letters, "STOP ALL",
 * "OPT-OUT") because a missed opt-out is worse than a generous one; a keyword inside a sentence
 * ("stop by tomorrow", "yes please call me") is never one.
 */

export type KeywordKind = 'stop' | 'start' | 'help';

export const STOP_KEYWORDS = ['STOP', 'UNSUBSCRIBE', 'END', 'QUIT', 'STOPALL', 'REVOKE', 'OPTOUT', 'CANCEL'] as const;
export const START_KEYWORDS = ['START', 'YES', 'UNSTOP'] as const;
export const HELP_KEYWORDS = ['HELP', 'INFO'] as const;

const KINDS: ReadonlyMap<string, KeywordKind> = new Map<string, KeywordKind>([
  ...STOP_KEYWORDS.map((k) => [k, 'stop'] as const),
  ...START_KEYWORDS.map((k) => [k, 'start'] as const),
  ...HELP_KEYWORDS.map((k) => [k, 'help'] as const),
]);

export interface KeywordMatch {
  kind: KeywordKind;
  /** The keyword as listed above (upper case), e.g. "STOPALL" for "stop all". */
  keyword: string;
}

/** Punctuation, symbols (emoji included), separators and invisible format characters at either end. */
const EDGES = /^[\p{P}\p{S}\p{Z}\p{Cf}\s]+|[\p{P}\p{S}\p{Z}\p{Cf}\s]+$/gu;
/** What may join the two words of "STOP ALL" / "OPT-OUT". */
const JOINER = /^[\p{Z}\s\-_.]+$/u;

/**
 * The keyword a whole inbound message is, or null for anything else (a conversation). Letters are
 * compared after NFKC (full-width "ＳＴＯＰ" is STOP) and upper-casing without locale rules.
 */
export function classifyKeyword(body: string): KeywordMatch | null {
  if (body.length > 64) return null;
  const text = body.normalize('NFKC').replace(EDGES, '').toUpperCase();
  if (text === '') return null;
  const direct = KINDS.get(text);
  if (direct) return { kind: direct, keyword: text };
  // Two words that are one keyword: "STOP ALL", "OPT OUT", "OPT-OUT".
  const parts = /^([A-Z]+)(.+?)([A-Z]+)$/u.exec(text);
  if (parts?.[1] && parts[2] && parts[3] && JOINER.test(parts[2])) {
    const joined = parts[1] + parts[3];
    if (joined === 'STOPALL' || joined === 'OPTOUT') return { kind: 'stop', keyword: joined };
  }
  return null;
}
