import { describe, expect, it } from 'vitest';
import { jsonNestsDeeperThan, MAX_JSON_DEPTH } from './json-depth.js';

/** Objects nested exactly `depth` deep. */
function nested(depth: number): unknown {
  let value: unknown = { type: 'string' };
  for (let level = 1; level < depth; level++) value = { inner: value };
  return value;
}

describe('jsonNestsDeeperThan', () => {
  it('counts objects and arrays, not scalars', () => {
    expect(jsonNestsDeeperThan('text', 0)).toBe(false);
    expect(jsonNestsDeeperThan({}, 1)).toBe(false);
    expect(jsonNestsDeeperThan({ a: [{}] }, 2)).toBe(true);
    expect(jsonNestsDeeperThan({ a: [{}] }, 3)).toBe(false);
  });

  it('lets a realistic tool schema through and stops one nested far past the limit without overflowing', () => {
    expect(jsonNestsDeeperThan({ tools: [{ input_schema: nested(12) }] })).toBe(false);
    // JSON.parse builds this fine; a recursive walk of it would overflow the stack.
    const hostile = JSON.parse(`${'['.repeat(200_000)}${']'.repeat(200_000)}`);
    expect(jsonNestsDeeperThan(hostile)).toBe(true);
    expect(jsonNestsDeeperThan(nested(MAX_JSON_DEPTH))).toBe(false);
    expect(jsonNestsDeeperThan(nested(MAX_JSON_DEPTH + 1))).toBe(true);
  });
});
