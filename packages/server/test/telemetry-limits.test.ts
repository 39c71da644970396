import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type QuickStartGateway, startQuickStartGateway } from './support/harness.js';

/** OTLP telemetry is stored as received: its size and rate are bounded per key and per organisation. */
let gateway: QuickStartGateway;

beforeAll(async () => {
  gateway = await startQuickStartGateway({
    GATEHOUSE_TELEMETRY_MAX_BODY_BYTES: '2048',
    GATEHOUSE_TELEMETRY_KEY_BYTES_PER_MINUTE: '4096',
    GATEHOUSE_TELEMETRY_ORG_BYTES_PER_MINUTE: '8192',
  });
});
afterAll(async () => {
  await gateway?.close();
});

/** An OTLP/JSON logs batch of about `bytes` bytes. */
function logsBatch(bytes: number): string {
  const skeleton = { resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { stringValue: '' } }] }] }] };
  const padding = 'x'.repeat(Math.max(0, bytes - JSON.stringify(skeleton).length));
  return JSON.stringify({
    resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { stringValue: padding } }] }] }],
  });
}

function post(key: string, body: string) {
  return fetch(`${gateway.server.url}/v1/logs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body,
  });
}

describe('telemetry limits', () => {
  it('refuses a batch over the size limit with 413 in Anthropic’s shape', async () => {
    const response = await post(gateway.setup.key, logsBatch(3_000));
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ type: 'error', error: { type: 'request_too_large' } });
  });

  it('gives each key and the organisation a per-minute allowance, then 429 with retry-after', async () => {
    const { server, setup } = gateway;
    const statuses: number[] = [];
    for (let batch = 0; batch < 4; batch++) statuses.push((await post(setup.key, logsBatch(1_900))).status);
    expect(statuses.slice(0, 2)).toEqual([200, 200]);
    const refused = await post(setup.key, logsBatch(1_900));
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await refused.json()).toMatchObject({ error: { type: 'rate_limit_error' } });

    // Other keys of the organisation have their own allowance until the organisation's runs out.
    const others: number[] = [];
    for (let keyNumber = 0; keyNumber < 4; keyNumber++) {
      const other = await server.admin('POST', '/virtual-keys', {
        projectId: setup.projectId,
        name: `telemetry ${keyNumber}`,
      });
      others.push((await post(other.key, logsBatch(1_900))).status);
    }
    expect(others.filter((status) => status === 200).length).toBe(2);
    expect(others.slice(2)).toEqual([429, 429]);
  });
});
