import { describe, expect, it } from 'vitest';
import {
  generateVirtualKey,
  isWellFormedVirtualKey,
  VIRTUAL_KEY_PATTERN,
  VIRTUAL_KEY_PREFIX,
  virtualKeyHint,
} from './keys.js';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

describe('virtual key format', () => {
  it('generates well-formed, unique keys that match the scanner pattern', () => {
    const seen = new Set<string>();
    for (let index = 0; index < 2000; index++) {
      const key = generateVirtualKey();
      expect(key.startsWith(VIRTUAL_KEY_PREFIX)).toBe(true);
      expect(key).toHaveLength(42);
      expect(VIRTUAL_KEY_PATTERN.test(key)).toBe(true);
      expect(/gth_[0-9A-Za-z]{38}/.test(`token=${key};`)).toBe(true);
      expect(isWellFormedVirtualKey(key)).toBe(true);
      seen.add(key);
    }
    expect(seen.size).toBe(2000);
  });

  it('uses every base62 character in the random part', () => {
    const used = new Set<string>();
    for (let index = 0; index < 200; index++)
      for (const char of generateVirtualKey().slice(4, 36)) used.add(char);
    expect(used.size).toBe(62);
  });

  it('rejects every single-character substitution anywhere in the key', () => {
    const key = generateVirtualKey();
    for (let position = 0; position < key.length; position++) {
      for (const replacement of `${BASE62}_-`) {
        if (replacement === key[position]) continue;
        const typo = key.slice(0, position) + replacement + key.slice(position + 1);
        expect(isWellFormedVirtualKey(typo), `${position}:${replacement}`).toBe(false);
      }
    }
  });

  it('rejects truncation, extension, wrong prefix, bad charset and non-strings', () => {
    const key = generateVirtualKey();
    for (let length = 0; length < key.length; length++)
      expect(isWellFormedVirtualKey(key.slice(0, length))).toBe(false);
    expect(isWellFormedVirtualKey(`${key}0`)).toBe(false);
    expect(isWellFormedVirtualKey(`ght_${key.slice(4)}`)).toBe(false);
    expect(isWellFormedVirtualKey(`GTH_${key.slice(4)}`)).toBe(false);
    expect(isWellFormedVirtualKey(`sk-${key.slice(3)}`)).toBe(false);
    expect(isWellFormedVirtualKey(`${key.slice(0, 10)}é${key.slice(11)}`)).toBe(false);
    expect(isWellFormedVirtualKey(` ${key.slice(1)}`)).toBe(false);
    expect(isWellFormedVirtualKey(`${key}\n`)).toBe(false);
    expect(isWellFormedVirtualKey(undefined as unknown as string)).toBe(false);
    expect(isWellFormedVirtualKey(42 as unknown as string)).toBe(false);
  });

  it('rejects swapped adjacent characters in the random part', () => {
    const key = generateVirtualKey();
    for (let position = 4; position < 35; position++) {
      const a = key[position] as string;
      const b = key[position + 1] as string;
      if (a === b) continue;
      const swapped = key.slice(0, position) + b + a + key.slice(position + 2);
      expect(isWellFormedVirtualKey(swapped)).toBe(false);
    }
  });

  it('hints show the prefix and last four characters only', () => {
    const key = generateVirtualKey();
    expect(virtualKeyHint(key)).toBe(`gth_…${key.slice(-4)}`);
    expect(virtualKeyHint('short')).toBe('gth_…');
  });
});
