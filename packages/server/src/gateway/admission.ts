import type { ResolvedKey } from './auth.js';
import type { ParsedCall } from './request-body.js';

/**
 * Rate limits and budget reservations run here, before any provider is called. Until budgets
 * exist the stage is an explicit pass: chosen in the wiring, never a skipped `undefined`.
 */
export interface Admission {
  admit(identity: ResolvedKey, call: ParsedCall): Promise<void>;
}

export const admitEverything: Admission = {
  async admit() {},
};
