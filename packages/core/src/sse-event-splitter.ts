/**
 * Splits Server-Sent Events text into complete events, each with its exact original framing
 * (lines ended by LF, CRLF or CR; an event ended by a blank line). Lets a tap that must drop one
 * event forward every other event byte for byte, instead of re-serialising what it parsed.
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#parsing-an-event-stream
 */
export class SseEventSplitter {
  // Scanning resumes where it stopped, so feeding one byte at a time stays linear.
  private pending = '';
  private scanIndex = 0;
  private lineStart = 0;

  /** Appends text and returns the complete events it finished, each with its exact framing. */
  push(text: string): string[] {
    this.pending += text;
    const events: string[] = [];
    let eventStart = 0;
    let index = this.scanIndex;
    while (index < this.pending.length) {
      const code = this.pending.charCodeAt(index);
      if (code !== 10 && code !== 13) {
        index++;
        continue;
      }
      // A trailing CR may be the first half of CRLF: wait for the next byte to know.
      if (code === 13 && index + 1 === this.pending.length) break;
      const lineEnd = code === 13 && this.pending.charCodeAt(index + 1) === 10 ? index + 2 : index + 1;
      if (index === this.lineStart) {
        events.push(this.pending.slice(eventStart, lineEnd));
        eventStart = lineEnd;
      }
      this.lineStart = lineEnd;
      index = lineEnd;
    }
    this.pending = this.pending.slice(eventStart);
    this.scanIndex = index - eventStart;
    this.lineStart -= eventStart;
    return events;
  }

  /** Text held back so far (an unfinished event). */
  get size(): number {
    return this.pending.length;
  }

  /** Empties the splitter, returning whatever it held. */
  drain(): string {
    const rest = this.pending;
    this.pending = '';
    this.scanIndex = 0;
    this.lineStart = 0;
    return rest;
  }
}
