import { describe, expect, test } from 'vitest';
import { applySuggestions, describeSms, isGsmCharacter, smsFacts, suggestReplacement } from './sms-facts.js';

describe('GSM-7', () => {
  test('160 septets fit one message; 161 make two parts of 153', () => {
    expect(smsFacts('a'.repeat(160))).toMatchObject({
      encoding: 'GSM-7',
      units: 160,
      segments: 1,
      per_segment: 160,
      remaining: 0,
    });
    expect(smsFacts('a'.repeat(161))).toMatchObject({ encoding: 'GSM-7', units: 161, segments: 2, per_segment: 153 });
    expect(smsFacts('a'.repeat(306)).segments).toBe(2);
    expect(smsFacts('a'.repeat(307)).segments).toBe(3);
    expect(smsFacts('a'.repeat(161)).remaining).toBe(153 - 8);
  });

  test('the whole basic alphabet, accents included, stays GSM-7', () => {
    const text = '@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0189:;<=>?¡AZÄÖÑÜ§¿azäöñüà\n';
    const facts = smsFacts(text);
    expect(facts.encoding).toBe('GSM-7');
    expect(facts.non_gsm).toEqual([]);
    expect(facts.units).toBe([...text].length);
  });

  test('extension characters (€ [ ] { } | ^ ~ \\) take two septets and are listed', () => {
    const facts = smsFacts('Price: 10€ [net]');
    expect(facts.encoding).toBe('GSM-7');
    expect(facts.units).toBe(16 + 3);
    expect(facts.extension_characters.sort()).toEqual(['[', ']', '€'].sort());
    // 80 euro signs are 160 septets: one part; one more character is two parts.
    expect(smsFacts('€'.repeat(80))).toMatchObject({ units: 160, segments: 1 });
    expect(smsFacts(`${'€'.repeat(80)}a`).segments).toBe(2);
  });

  test('an escape pair is never split across parts', () => {
    // 152 plain + € (2 septets) = 154: the € moves to part two.
    const facts = smsFacts(`${'a'.repeat(152)}€${'b'.repeat(10)}`);
    expect(facts.segments).toBe(2);
    expect(facts.remaining).toBe(153 - 12);
  });
});

describe('UCS-2', () => {
  test('one curly apostrophe makes the whole message UCS-2: 70 single, 67 per part', () => {
    const seventy = `We’re ${'a'.repeat(64)}`;
    expect([...seventy].length).toBe(70);
    expect(smsFacts(seventy)).toMatchObject({ encoding: 'UCS-2', units: 70, segments: 1, per_segment: 70 });
    expect(smsFacts(`${seventy}a`)).toMatchObject({ encoding: 'UCS-2', units: 71, segments: 2, per_segment: 67 });
    expect(smsFacts(`’${'a'.repeat(133)}`).segments).toBe(2);
    expect(smsFacts(`’${'a'.repeat(134)}`).segments).toBe(3);
  });

  test('emoji are two code units and never split', () => {
    const facts = smsFacts('Back online 🎉');
    expect(facts.encoding).toBe('UCS-2');
    expect(facts.characters).toBe(13);
    expect(facts.units).toBe(14);
    expect(facts.non_gsm).toEqual([{ char: '🎉', code_point: 'U+1F389', count: 1, suggestion: null }]);
    expect(facts.gsm_suggestion).toBeNull();
    // 66 units + an emoji (2) = 68 > 67: the emoji starts part two rather than being cut in half.
    const split = smsFacts(`${'’'}${'a'.repeat(65)}🎉${'b'.repeat(10)}`);
    expect(split.units).toBe(78);
    expect(split.segments).toBe(2);
    expect(split.remaining).toBe(67 - 12);
  });

  test('the characters that forced UCS-2 are named with replacements that make it GSM-7 again', () => {
    const text = 'We’re on it – “catalog” at https://x.example… non‑breaking\u00a0space';
    const facts = smsFacts(text);
    expect(facts.encoding).toBe('UCS-2');
    const byChar = Object.fromEntries(facts.non_gsm.map((c) => [c.char, c]));
    expect(byChar['’']).toMatchObject({ code_point: 'U+2019', suggestion: "'" });
    expect(byChar['–']).toMatchObject({ code_point: 'U+2013', suggestion: '-' });
    expect(byChar['“']?.suggestion).toBe('"');
    expect(byChar['”']?.suggestion).toBe('"');
    expect(byChar['…']?.suggestion).toBe('...');
    expect(byChar['\u2011']).toMatchObject({ code_point: 'U+2011', suggestion: '-' });
    expect(byChar['\u00a0']).toMatchObject({ code_point: 'U+00A0', suggestion: ' ' });
    expect(facts.gsm_suggestion).toBe('We\'re on it - "catalog" at https://x.example... non-breaking space');
    expect(smsFacts(facts.gsm_suggestion as string).encoding).toBe('GSM-7');
    expect(describeSms(facts)).toContain('UCS-2 because of');
  });

  test('counts repeated offenders and suggests bare letters for accents outside the alphabet', () => {
    const facts = smsFacts('Olá, São Paulo! Çà ç');
    const byChar = Object.fromEntries(facts.non_gsm.map((c) => [c.char, c]));
    expect(byChar.á).toMatchObject({ count: 1, suggestion: 'a' });
    expect(byChar.ã).toMatchObject({ suggestion: 'a' });
    expect(byChar.ç).toMatchObject({ suggestion: 'c' });
    expect(byChar.Ç).toBeUndefined();
    expect(suggestReplacement('\u0301')).toBe('');
    expect(suggestReplacement('漢')).toBeNull();
    expect(applySuggestions('“Hi”')).toBe('"Hi"');
    expect(isGsmCharacter('€')).toBe(true);
    expect(isGsmCharacter('`')).toBe(false);
  });
});
