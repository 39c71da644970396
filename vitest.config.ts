import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // expect.poll waits for what a page or a background writer shows, not for a deadline: its
    // default of 1 s failed the browser tests now and then on a loaded two-core machine.
    expect: { poll: { timeout: 10_000 } },
    // Two cores: run files in parallel but not more forks than cores.
    pool: 'forks',
    maxWorkers: 2,
  },
});
