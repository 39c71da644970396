import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('settings from the environment', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 4600,
      host: '127.0.0.1',
      dataDir: './.gatehouse',
      databaseUrl: undefined,
      adminToken: undefined,
      publicUrl: 'http://127.0.0.1:4600',
      maxBodyBytes: 32 * 1024 * 1024,
    });
  });

  it('reports every bad value at once, each with its name', () => {
    let caught: unknown;
    try {
      loadConfig({
        PORT: '70000',
        DATABASE_URL: 'mysql://localhost/db',
        GATEHOUSE_SECRET_KEY: 'too-short',
        GATEHOUSE_PUBLIC_URL: 'not a url',
        GATEHOUSE_MAX_BODY_BYTES: '1.5',
        GATEHOUSE_LOG_LEVEL: 'loud',
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const problems = (caught as ConfigError).problems.join('\n');
    for (const name of [
      'PORT',
      'DATABASE_URL',
      'GATEHOUSE_SECRET_KEY',
      'GATEHOUSE_PUBLIC_URL',
      'GATEHOUSE_MAX_BODY_BYTES',
      'GATEHOUSE_LOG_LEVEL',
    ]) {
      expect(problems).toContain(name);
    }
  });

  it('accepts a secret key as hex or base64, and a public URL without its trailing slash', () => {
    const hex = 'ab'.repeat(32);
    expect(loadConfig({ GATEHOUSE_SECRET_KEY: hex }).secretKey?.toString('hex')).toBe(hex);
    const base64 = Buffer.alloc(32, 7).toString('base64');
    expect(loadConfig({ GATEHOUSE_SECRET_KEY: base64 }).secretKey).toEqual(Buffer.alloc(32, 7));
    expect(loadConfig({ GATEHOUSE_PUBLIC_URL: 'https://gatehouse.example.com/' }).publicUrl).toBe(
      'https://gatehouse.example.com',
    );
  });

  it("reads the default organisation's OIDC provider, refusing plain http off loopback and half a setting", () => {
    expect(
      loadConfig({
        GATEHOUSE_OIDC_ISSUER: 'https://login.example.com',
        GATEHOUSE_OIDC_CLIENT_ID: 'gatehouse',
        GATEHOUSE_OIDC_CLIENT_SECRET: 's3cret',
      }).oidc,
    ).toEqual({ issuer: 'https://login.example.com', clientId: 'gatehouse', clientSecret: 's3cret' });
    expect(loadConfig({}).oidc).toBeUndefined();
    expect(() =>
      loadConfig({
        GATEHOUSE_OIDC_ISSUER: 'http://login.example.com',
        GATEHOUSE_OIDC_CLIENT_ID: 'gatehouse',
      }),
    ).toThrow(/GATEHOUSE_OIDC_ISSUER must be the provider's https:\/\/ issuer URL/);
    expect(() => loadConfig({ GATEHOUSE_OIDC_ISSUER: 'https://login.example.com' })).toThrow(
      /GATEHOUSE_OIDC_ISSUER and GATEHOUSE_OIDC_CLIENT_ID must be set together/,
    );
    expect(
      loadConfig({ GATEHOUSE_OIDC_ISSUER: 'http://127.0.0.1:9000', GATEHOUSE_OIDC_CLIENT_ID: 'dev' }).oidc
        ?.issuer,
    ).toBe('http://127.0.0.1:9000');
  });
});

describe('GATEHOUSE_DEV_SSO (the development identity provider)', () => {
  it('reads the listed people, lower-cased, once each', () => {
    expect(
      loadConfig({ GATEHOUSE_DEV_SSO: 'Alice@Example.com, bob@example.com,alice@example.com' }).devSso,
    ).toEqual({
      emails: ['alice@example.com', 'bob@example.com'],
    });
    expect(loadConfig({}).devSso).toBeUndefined();
    expect(loadConfig({ HOST: 'localhost', GATEHOUSE_DEV_SSO: 'a@example.com' }).devSso).toBeDefined();
    expect(loadConfig({ HOST: '::1', GATEHOUSE_DEV_SSO: 'a@example.com' }).devSso).toBeDefined();
  });

  it('is refused at start, by name, unless the server listens on loopback', () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.20', 'gatehouse.example.com']) {
      expect(() => loadConfig({ HOST: host, GATEHOUSE_DEV_SSO: 'alice@example.com' })).toThrow(
        /GATEHOUSE_DEV_SSO .*needs HOST on loopback/,
      );
    }
    expect(() =>
      loadConfig({
        GATEHOUSE_DEV_SSO: 'alice@example.com',
        GATEHOUSE_PUBLIC_URL: 'https://gatehouse.example.com',
      }),
    ).toThrow(/GATEHOUSE_DEV_SSO needs GATEHOUSE_PUBLIC_URL on loopback/);
  });

  it('is refused beside a real provider, and with anything but email addresses', () => {
    expect(() =>
      loadConfig({
        GATEHOUSE_DEV_SSO: 'alice@example.com',
        GATEHOUSE_OIDC_ISSUER: 'https://login.example.com',
        GATEHOUSE_OIDC_CLIENT_ID: 'gatehouse',
      }),
    ).toThrow(/GATEHOUSE_DEV_SSO and GATEHOUSE_OIDC_ISSUER cannot both be set/);
    expect(() => loadConfig({ GATEHOUSE_DEV_SSO: 'alice@example.com,bob' })).toThrow(
      /GATEHOUSE_DEV_SSO must be a comma-separated list of email addresses, got "bob"/,
    );
    expect(() => loadConfig({ GATEHOUSE_DEV_SSO: ' , ' })).toThrow(/GATEHOUSE_DEV_SSO must be/);
  });
});
