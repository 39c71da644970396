/**
 * One short line about a failure, for logs that repeat while something is down. Never the
 * error object itself: a failed batch insert carries its query and every parameter (the whole
 * batch of usage events), which would flood the log and copy data into it.
 */
export function failureSummary(error: unknown): string {
  const parts: string[] = [];
  for (let current: unknown = error, depth = 0; current !== undefined && depth < 4; depth++) {
    const code = (current as { code?: unknown }).code;
    const message = current instanceof Error ? current.message : String(current);
    // Query errors start with the query text; the interesting part is the cause's message.
    if (!message.startsWith('Failed query:'))
      parts.push(typeof code === 'string' ? `${code}: ${message}` : message);
    current = current instanceof Error ? current.cause : undefined;
  }
  const line = parts.join(' ← ') || 'unknown failure';
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}
