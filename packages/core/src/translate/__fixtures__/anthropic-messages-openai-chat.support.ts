/** Test helpers: read the translate fixtures (JSON cases and recorded `.chunks.txt` streams). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { WireEvent } from '../neutral.js';

const directory = fileURLToPath(new URL('.', import.meta.url));

export function fixtureText(name: string): string {
  return readFileSync(`${directory}/${name}`, 'utf8');
}

export function fixtureJson<T = unknown>(name: string): T {
  return JSON.parse(fixtureText(name)) as T;
}

/** Splits recorded SSE text into wire events, as the gateway's SSE decoder does. */
export function sseEvents(text: string): WireEvent[] {
  return text
    .split(/\n\n+/)
    .filter((block) => block.trim() !== '')
    .map((block) => {
      let event: string | undefined;
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice('event: '.length);
        else if (line.startsWith('data: ')) data.push(line.slice('data: '.length));
      }
      return { event, data: data.join('\n') };
    });
}
