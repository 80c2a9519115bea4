import { describe, expect, test } from 'vitest';
import { findJsonErrorOffset, lineAndColumn } from './json-error.js';

describe('locating JSON errors', () => {
  test('valid documents have no error', () => {
    for (const text of ['{}', '[]', ' {"a": [1, -2.5e3, true, false, null, "x\\n\\u00e9"]} ', '"s"', '0']) {
      expect(findJsonErrorOffset(text)).toBeNull();
      expect(() => JSON.parse(text)).not.toThrow();
    }
  });

  test('the first bad character, with line and column', () => {
    const text = '{\n  "name": "CDN down",\n  "message": oops\n}';
    const offset = findJsonErrorOffset(text) as number;
    expect(text[offset]).toBe('o');
    expect(lineAndColumn(text, offset)).toEqual({ line: 3, column: 14 });
    expect(findJsonErrorOffset('{"a": 1,}')).toBe(8);
    expect(findJsonErrorOffset('{"a": 1')).toBe(7);
    expect(findJsonErrorOffset('[1 2]')).toBe(3);
    expect(findJsonErrorOffset('{"a": 01}')).toBe(7);
    expect(findJsonErrorOffset('{} trailing')).toBe(3);
    expect(findJsonErrorOffset('"bad \\q escape"')).toBe(6);
  });
});
