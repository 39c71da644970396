/**
 * Standalone mock upstream: `PORT` (default 4700), `HOST` (default 127.0.0.1), `MOCK_RECORD=0` disables
 * recording. `MOCK_USAGE_INPUT_TOKENS` with `MOCK_USAGE_OUTPUT_TOKENS` fix the usage every answer
 * reports, and `MOCK_EVENT_DELAY_MS` spaces streamed events (the default scenario, as `setDefault`).
 */
import { startMockUpstream } from './mock-upstream.js';

const mock = await startMockUpstream({
  port: Number(process.env.PORT ?? 4700),
  host: process.env.HOST ?? '127.0.0.1',
  record: process.env.MOCK_RECORD !== '0',
  ...(process.env.MOCK_API_KEY ? { apiKey: process.env.MOCK_API_KEY } : {}),
});
const inputTokens = Number(process.env.MOCK_USAGE_INPUT_TOKENS ?? Number.NaN);
const outputTokens = Number(process.env.MOCK_USAGE_OUTPUT_TOKENS ?? Number.NaN);
const eventDelayMs = Number(process.env.MOCK_EVENT_DELAY_MS ?? 0);
mock.setDefault({
  ...(Number.isInteger(inputTokens) && Number.isInteger(outputTokens)
    ? { usage: { inputTokens, outputTokens } }
    : {}),
  ...(eventDelayMs > 0 ? { eventDelayMs } : {}),
});
const stop = (): void => {
  mock.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
// Announce only once the signal handlers are in place, so a SIGTERM right after it is handled.
console.log(`mock upstream listening on ${mock.url}`);
