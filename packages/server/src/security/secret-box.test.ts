import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SecretBox, secretsEqual } from './secret-box.js';

describe('secrets at rest', () => {
  const box = new SecretBox(randomBytes(32));

  it('round-trips a secret without its plaintext in the envelope', () => {
    const sealed = box.seal('sk-live-provider-key', 'prov_1');
    expect(sealed).not.toContain('sk-live');
    expect(box.open(sealed, 'prov_1')).toBe('sk-live-provider-key');
  });

  it('refuses an envelope moved to another record, tampered with, or opened with another key', () => {
    const sealed = box.seal('secret', 'prov_1');
    expect(() => box.open(sealed, 'prov_2')).toThrow();
    const parts = sealed.split('.');
    parts[6] = Buffer.from('tampered').toString('base64url');
    expect(() => box.open(parts.join('.'), 'prov_1')).toThrow();
    expect(() => new SecretBox(randomBytes(32)).open(sealed, 'prov_1')).toThrow();
  });

  it('hashes virtual keys with a key of its own: stable, and different under another master key', () => {
    const hash = box.hashVirtualKey('gth_example');
    expect(hash).toBe(box.hashVirtualKey('gth_example'));
    expect(hash).not.toContain('gth_example');
    expect(new SecretBox(randomBytes(32)).hashVirtualKey('gth_example')).not.toBe(hash);
  });

  it('compares secrets of any length', () => {
    expect(secretsEqual('a-long-admin-token', 'a-long-admin-token')).toBe(true);
    expect(secretsEqual('a-long-admin-token', 'a-long-admin-tokeN')).toBe(false);
    expect(secretsEqual('short', 'a-long-admin-token')).toBe(false);
  });
});
