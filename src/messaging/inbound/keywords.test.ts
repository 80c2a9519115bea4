import { describe, expect, test } from 'vitest';
import { classifyKeyword, HELP_KEYWORDS, START_KEYWORDS, STOP_KEYWORDS } from './keywords.js';

describe('SMS keywords', () => {
  test("Twilio's standard words, each in its family", () => {
    for (const k of STOP_KEYWORDS) expect(classifyKeyword(k)).toEqual({ kind: 'stop', keyword: k });
    for (const k of START_KEYWORDS) expect(classifyKeyword(k)).toEqual({ kind: 'start', keyword: k });
    for (const k of HELP_KEYWORDS) expect(classifyKeyword(k)).toEqual({ kind: 'help', keyword: k });
    expect(STOP_KEYWORDS).toEqual(
      expect.arrayContaining(['STOP', 'UNSUBSCRIBE', 'END', 'QUIT', 'STOPALL', 'REVOKE', 'OPTOUT', 'CANCEL']),
    );
  });

  test.each([
    'stop',
    ' STOP ',
    'Stop.',
    'STOP!!!',
    '\tstop\n',
    '"Stop"',
    'stop 🛑',
    'ＳＴＯＰ',
    'Unsubscribe.',
    'stop all',
    'Stop-All',
    'opt-out',
    'Opt out',
    '\u00a0quit\u200b',
  ])('%j opts out', (body) => {
    expect(classifyKeyword(body)?.kind).toBe('stop');
  });

  test.each([
    ['start', 'start'],
    ['Yes!', 'start'],
    ['unstop', 'start'],
    ['help?', 'help'],
    ['Info', 'help'],
  ])('%j is %s', (body, kind) => {
    expect(classifyKeyword(body)?.kind).toBe(kind);
  });

  test.each([
    '',
    '   ',
    '?!',
    'stop by tomorrow',
    'please stop',
    'stop stop',
    "don't stop",
    'yes please call me',
    'help me with the specs',
    'stopping',
    'unstoppable',
    'information',
    'send info',
    '1',
    'END OF DAY',
    'st op',
    `STOP${' '.repeat(100)}x`,
  ])('%j is not a keyword', (body) => {
    expect(classifyKeyword(body)).toBeNull();
  });
});
