import { describe, expect, it } from 'vitest';
import { createMemoryHotState } from './memory.js';
import { COUNTER_RETENTION_MS, SETTLED_MEMORY_MS } from './shared.js';

/**
 * The in-process state must stay bounded on a long-running single instance: what Redis does with
 * EXPIRE, the memory implementation does by dropping stale entries against its clock.
 */
describe('memory hot state: bounded retention', () => {
  const windowStart = Date.UTC(2030, 0, 1);

  it('forgets a windowed counter 40 days after the window starts, but never a total', async () => {
    let clock = windowStart;
    const state = createMemoryHotState({ now: () => clock });
    await state.settle(
      'r1',
      [
        { budgetId: 'b', windowStart },
        { budgetId: 'b', windowStart: 0 },
      ],
      0.5,
    );
    clock = windowStart + COUNTER_RETENTION_MS - 1;
    expect((await state.counter({ budgetId: 'b', windowStart })).spentUsd).toBe(0.5);
    clock = windowStart + COUNTER_RETENTION_MS;
    expect((await state.counter({ budgetId: 'b', windowStart })).spentUsd).toBe(0);
    clock += 10 * COUNTER_RETENTION_MS;
    expect((await state.counter({ budgetId: 'b', windowStart: 0 })).spentUsd).toBe(0.5);
  });

  it('remembers a settled id for a day, then lets it go (a retry after that would charge again)', async () => {
    let clock = windowStart;
    const state = createMemoryHotState({ now: () => clock });
    const key = { budgetId: 'b', windowStart: 0 };
    await state.settle('r1', [key], 0.1);
    clock += SETTLED_MEMORY_MS - 1;
    await state.settle('r1', [key], 0.1);
    expect((await state.counter(key)).spentUsd).toBe(0.1);
    clock += 1;
    await state.settle('r1', [key], 0.1);
    expect((await state.counter(key)).spentUsd).toBe(0.2);
  });

  it('keeps the reservation when the clock has not reached its ttl, and drops it exactly then', async () => {
    let clock = windowStart;
    const state = createMemoryHotState({ now: () => clock });
    const check = { key: { budgetId: 'b', windowStart }, limitUsd: 1, enforce: true };
    await state.seedSpent(check.key, 0);
    await state.reserve('r1', [check], 1, 1_000);
    clock += 999;
    expect(await state.reserve('r2', [check], 0.01, 1_000)).toMatchObject({ ok: false });
    clock += 1;
    expect(await state.reserve('r2', [check], 0.01, 1_000)).toEqual({ ok: true });
  });
});
