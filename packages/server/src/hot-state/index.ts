export { createMemoryHotState } from './memory.js';
export { createRedisHotState, REDIS_COMMAND_TIMEOUT_MS } from './redis.js';
export { COUNTER_RETENTION_MS, SETTLED_MEMORY_MS } from './shared.js';
export type {
  BudgetCheck,
  BudgetCounter,
  BudgetCounterKey,
  HotState,
  RateCheck,
  RateResult,
  ReserveResult,
} from './types.js';
