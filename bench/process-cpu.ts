/**
 * CPU time a child process has used, read from Linux's `/proc/<pid>/stat`: user plus system time
 * of all its threads (the event loop, libuv's pool, the GC). Divided by the requests a round
 * served, it is the cost of one request, a figure that machine noise moves far less than req/s:
 * a busy neighbour slows the process down but does not make its work cost more.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Clock ticks per second that `/proc` counts in; 100 on every Linux this runs on. */
const TICKS_PER_SECOND = ticksPerSecond();

function ticksPerSecond(): number {
  try {
    const answer = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(answer) && answer > 0 ? answer : 100;
  } catch {
    return 100;
  }
}

/** Microseconds of CPU the process has used so far, or undefined where `/proc` is not there. */
export function cpuMicrosOf(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces; fields count on from
    // its closing one, so utime and stime (fields 14 and 15) are the 12th and 13th after it.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? (ticks * 1e6) / TICKS_PER_SECOND : undefined;
  } catch {
    return undefined;
  }
}
