/**
 * Neutral stream events → ConverseStream events, one JSON line per event:
 * `{"event": <:event-type>, "data": <payload>}`. Real Bedrock clients read the binary AWS
 * event-stream framing; building those frames (headers, CRCs) is the provider module's job,
 * which also makes this line form the natural fixture for round-trip tests. Bedrock sends no
 * keep-alives, so `keepalive` renders nothing.
 * @see https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html
 * @see https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStreamOutput.html
 */
import type { NeutralStreamEvent, StreamRenderer } from '../neutral.js';
import { stopReasonToBedrock, usageToBedrock } from './wire.js';

/** The exception events ConverseStream documents; other error types are mapped onto them. */
const exceptionTypes = new Set([
  'internalServerException',
  'modelStreamErrorException',
  'validationException',
  'throttlingException',
  'serviceUnavailableException',
]);

function exceptionFor(errorType: string): string {
  if (exceptionTypes.has(errorType)) return errorType;
  if (/rate|throttl/i.test(errorType)) return 'throttlingException';
  if (/overload|unavailable/i.test(errorType)) return 'serviceUnavailableException';
  if (/invalid|validation/i.test(errorType)) return 'validationException';
  return 'internalServerException';
}

function line(event: string, data: Record<string, unknown>): string {
  return `${JSON.stringify({ event, data })}\n`;
}

export function createStreamRenderer(): StreamRenderer {
  /** Neutral index → Bedrock `contentBlockIndex` of the blocks still open. */
  const open = new Map<number, number>();
  let nextBlockIndex = 0;
  let started = false;
  let done = false;

  function ensureStarted(): string {
    if (started) return '';
    started = true;
    return line('messageStart', { role: 'assistant' });
  }

  /** Bedrock numbers blocks itself, densely from 0, whatever indices the neutral stream used. */
  function blockIndex(index: number): number {
    let contentBlockIndex = open.get(index);
    if (contentBlockIndex === undefined) {
      contentBlockIndex = nextBlockIndex++;
      open.set(index, contentBlockIndex);
    }
    return contentBlockIndex;
  }

  function stop(index: number): string {
    const contentBlockIndex = open.get(index);
    if (contentBlockIndex === undefined) return '';
    open.delete(index);
    return line('contentBlockStop', { contentBlockIndex });
  }

  function stopAll(): string {
    return [...open.keys()].map(stop).join('');
  }

  function delta(index: number, value: Record<string, unknown>): string {
    return line('contentBlockDelta', { delta: value, contentBlockIndex: blockIndex(index) });
  }

  function render(event: NeutralStreamEvent): string {
    switch (event.type) {
      case 'start':
        return '';
      // Text and reasoning blocks have no start event on Bedrock: the first delta opens them.
      case 'text-start':
      case 'reasoning-start':
        blockIndex(event.index);
        return '';
      case 'text-delta':
        return delta(event.index, { text: event.delta });
      case 'reasoning-delta':
        return delta(event.index, { reasoningContent: { text: event.delta } });
      case 'reasoning-signature':
        return delta(event.index, { reasoningContent: { signature: event.signature } });
      case 'tool-input-start':
        return line('contentBlockStart', {
          start: { toolUse: { toolUseId: event.id, name: event.name } },
          contentBlockIndex: blockIndex(event.index),
        });
      case 'tool-input-delta':
        return delta(event.index, { toolUse: { input: event.delta } });
      case 'text-end':
      case 'reasoning-end':
      case 'tool-input-end':
        return stop(event.index);
      case 'finish':
        done = true;
        return (
          stopAll() +
          line('messageStop', { stopReason: stopReasonToBedrock(event.finishReason) }) +
          // The latency is not known to a translator; the field is required, so it is 0.
          line('metadata', { usage: usageToBedrock(event.usage), metrics: { latencyMs: 0 } })
        );
      case 'error':
        done = true;
        return line(exceptionFor(event.errorType), { message: event.message });
      case 'keepalive':
        return '';
    }
  }

  return {
    push(event: NeutralStreamEvent): string {
      if (done) return '';
      return ensureStarted() + render(event);
    },
    /** A stream cut short still closes its blocks; the missing stop reason is not invented. */
    end(): string {
      if (done || !started) return '';
      done = true;
      return stopAll();
    },
  };
}
