import { describe, expect, test } from 'vitest';
import { newId } from './ids.js';

describe('ids', () => {
  test('UUIDv7 text that sorts by creation time, also within one millisecond', () => {
    const ids = [newId(1_700_000_000_000), newId(1_700_000_000_000), newId(1_700_000_000_001), newId(1_700_000_005_000)];
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    expect(Number.parseInt(ids[3]?.replace(/-/g, '').slice(0, 12) ?? '', 16)).toBe(1_700_000_005_000);
  });

  test('a clock stepping backwards does not break the order', () => {
    const a = newId(1_800_000_000_000);
    const b = newId(1_799_999_999_000);
    expect(b > a).toBe(true);
  });
});
