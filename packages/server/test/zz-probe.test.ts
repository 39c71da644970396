import { writeFileSync } from 'node:fs';
import { it } from 'vitest';
import { startTestGatehouse } from './support/harness.js';

it('probe', async () => {
  const s = await startTestGatehouse();
  const doc = await (await fetch(`${s.url}/api/openapi.json`)).json();
  writeFileSync('/tmp/probe/openapi.json', JSON.stringify(doc, null, 1));
  await s.close();
});
