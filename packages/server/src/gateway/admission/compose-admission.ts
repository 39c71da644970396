import type { Admission, AdmissionRequest, AdmissionTicket } from './admission.js';

/**
 * Runs admission stages in order as one: each stage admits only after the ones before it did,
 * so a cheap refusal (a rate limit) comes before anything is reserved (a budget). If a later
 * stage refuses, what the earlier ones hold is released before the refusal is passed on. The
 * combined ticket carries every stage's headers (a later stage's header wins on a clash) and
 * settles or releases every stage, even when one of them fails.
 */
export function composeAdmissions(stages: Admission[]): Admission {
  return {
    async admit(request: AdmissionRequest): Promise<AdmissionTicket> {
      const tickets: AdmissionTicket[] = [];
      for (const stage of stages) {
        try {
          tickets.push(await stage.admit(request));
        } catch (error) {
          // The refusal is what the caller must see; a failed release expires with its TTL.
          await Promise.allSettled(tickets.map((ticket) => ticket.release()));
          throw error;
        }
      }
      return {
        headers: Object.assign({}, ...tickets.map((ticket) => ticket.headers)),
        settle: (actualCostUsd) => all(tickets.map((ticket) => ticket.settle(actualCostUsd))),
        release: () => all(tickets.map((ticket) => ticket.release())),
      };
    },
  };
}

/** Waits for every stage, then fails with the first failure, so one stage's error skips none. */
async function all(pending: Promise<void>[]): Promise<void> {
  const results = await Promise.allSettled(pending);
  const failed = results.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
}
