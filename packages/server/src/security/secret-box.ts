import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';

/**
 * Secrets at rest: AES-256-GCM envelope encryption. Each secret gets its own random data key,
 * which is itself wrapped with a key derived from GATEHOUSE_SECRET_KEY. The record's id is the
 * additional authenticated data, so a ciphertext copied onto another row does not decrypt.
 */
export class SecretBox {
  readonly #wrappingKey: Buffer;
  readonly #virtualKeyHashKey: Buffer;
  readonly #tokenHashKey: Buffer;

  constructor(masterKey: Buffer) {
    if (masterKey.length !== 32) throw new Error('master key must be 32 bytes');
    this.#wrappingKey = derive(masterKey, 'gatehouse/secret-box/v1');
    this.#virtualKeyHashKey = derive(masterKey, 'gatehouse/virtual-key-hash/v1');
    this.#tokenHashKey = derive(masterKey, 'gatehouse/token-hash/v1');
  }

  seal(plaintext: string, boundTo: string): string {
    const dataKey = randomBytes(32);
    const wrapped = encrypt(this.#wrappingKey, dataKey, Buffer.from(`wrap:${boundTo}`));
    const sealed = encrypt(dataKey, Buffer.from(plaintext, 'utf8'), Buffer.from(`data:${boundTo}`));
    return `v1.${wrapped}.${sealed}`;
  }

  open(envelope: string, boundTo: string): string {
    const [version, wrapIv, wrapTag, wrapBody, iv, tag, body] = envelope.split('.');
    if (version !== 'v1' || !wrapIv || !wrapTag || !wrapBody || !iv || !tag || body === undefined) {
      throw new Error('unrecognised secret envelope');
    }
    const dataKey = decrypt(this.#wrappingKey, [wrapIv, wrapTag, wrapBody], Buffer.from(`wrap:${boundTo}`));
    return decrypt(dataKey, [iv, tag, body], Buffer.from(`data:${boundTo}`)).toString('utf8');
  }

  /** The stored form of a virtual key: a keyed hash, useless without the master key. */
  hashVirtualKey(key: string): string {
    return createHmac('sha256', this.#virtualKeyHashKey).update(key).digest('base64url');
  }

  /**
   * The stored form of every other bearer secret (session ids, device and user codes, refresh
   * tokens, SCIM tokens): looked up by this keyed hash, never kept in the clear.
   */
  hashToken(token: string): string {
    return createHmac('sha256', this.#tokenHashKey).update(token).digest('base64url');
  }
}

/** Constant-time comparison of two secrets of any length (hashing first equalises lengths). */
export function secretsEqual(candidate: string, expected: string): boolean {
  const a = createHmac('sha256', 'gatehouse/compare').update(candidate).digest();
  const b = createHmac('sha256', 'gatehouse/compare').update(expected).digest();
  return timingSafeEqual(a, b);
}

function derive(masterKey: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), purpose, 32));
}

function encrypt(key: Buffer, plaintext: Buffer, aad: Buffer): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return [iv, cipher.getAuthTag(), body].map((part) => part.toString('base64url')).join('.');
}

function decrypt(key: Buffer, [iv, tag, body]: [string, string, string], aad: Buffer): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAAD(aad);
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]);
}
