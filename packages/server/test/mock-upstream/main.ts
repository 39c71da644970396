/** Standalone mock upstream: `PORT` (default 4700), `HOST` (default 127.0.0.1), `MOCK_RECORD=0` disables recording. */
import { startMockUpstream } from './mock-upstream.js';

const mock = await startMockUpstream({
  port: Number(process.env.PORT ?? 4700),
  host: process.env.HOST ?? '127.0.0.1',
  record: process.env.MOCK_RECORD !== '0',
  ...(process.env.MOCK_API_KEY ? { apiKey: process.env.MOCK_API_KEY } : {}),
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
