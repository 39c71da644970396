import { GatewayError } from '@gatehouse/core';
import { describe, expect, it } from 'vitest';
import type { Admission, AdmissionRequest, AdmissionTicket } from './admission.js';
import { composeAdmissions } from './compose-admission.js';

/** A stage that records what happens to its ticket, or refuses. */
function stage(
  name: string,
  log: string[],
  options: { refuse?: boolean; headers?: Record<string, string> } = {},
) {
  const admission: Admission = {
    async admit(): Promise<AdmissionTicket> {
      log.push(`${name}:admit`);
      if (options.refuse) throw new GatewayError('rate_limited', `${name} refused`);
      return {
        headers: options.headers ?? {},
        settle: async (cost) => {
          log.push(`${name}:settle:${cost}`);
        },
        release: async () => {
          log.push(`${name}:release`);
        },
      };
    },
  };
  return admission;
}

const request = {} as AdmissionRequest;

describe('composed admission', () => {
  it('admits through every stage in order and merges their headers, later stages winning', async () => {
    const log: string[] = [];
    const ticket = await composeAdmissions([
      stage('rate', log, { headers: { 'x-a': '1', 'x-shared': 'rate' } }),
      stage('budget', log, { headers: { 'x-b': '2', 'x-shared': 'budget' } }),
    ]).admit(request);
    expect(log).toEqual(['rate:admit', 'budget:admit']);
    expect(ticket.headers).toEqual({ 'x-a': '1', 'x-b': '2', 'x-shared': 'budget' });
  });

  it('settles and releases every stage', async () => {
    const log: string[] = [];
    const composed = composeAdmissions([stage('rate', log), stage('budget', log)]);
    await (await composed.admit(request)).settle(0.25);
    await (await composed.admit(request)).release();
    expect(log.filter((entry) => !entry.endsWith(':admit'))).toEqual([
      'rate:settle:0.25',
      'budget:settle:0.25',
      'rate:release',
      'budget:release',
    ]);
  });

  it('releases what earlier stages hold when a later one refuses, and passes the refusal on', async () => {
    const log: string[] = [];
    const refusal = await composeAdmissions([
      stage('first', log),
      stage('second', log),
      stage('third', log, { refuse: true }),
      stage('never', log),
    ])
      .admit(request)
      .catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(GatewayError);
    expect((refusal as Error).message).toBe('third refused');
    expect(log).toEqual(['first:admit', 'second:admit', 'third:admit', 'first:release', 'second:release']);
  });

  it('passes the refusal on even when releasing an earlier stage fails', async () => {
    const failing: Admission = {
      admit: async () => ({
        headers: {},
        settle: async () => {},
        release: async () => {
          throw new Error('hot state down');
        },
      }),
    };
    const refusal = await composeAdmissions([failing, stage('refuser', [], { refuse: true })])
      .admit(request)
      .catch((error: unknown) => error);
    expect((refusal as Error).message).toBe('refuser refused');
  });

  it('settles every stage even when one fails, then reports the failure', async () => {
    const log: string[] = [];
    const failing: Admission = {
      admit: async () => ({
        headers: {},
        settle: async () => {
          throw new Error('settle failed');
        },
        release: async () => {},
      }),
    };
    const ticket = await composeAdmissions([failing, stage('budget', log)]).admit(request);
    await expect(ticket.settle(1)).rejects.toThrow('settle failed');
    expect(log).toContain('budget:settle:1');
  });

  it('holds nothing with no stages', async () => {
    const ticket = await composeAdmissions([]).admit(request);
    expect(ticket.headers).toEqual({});
    await ticket.settle(1);
    await ticket.release();
  });
});
