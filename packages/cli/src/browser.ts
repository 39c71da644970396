/**
 * Whether a browser can be opened here: not over SSH, not on a Linux box without a display.
 * Opening is best effort; the URL is always printed too.
 */
export function canOpenBrowser(): boolean {
  if (process.env.SSH_CONNECTION || process.env.SSH_TTY) return false;
  if (process.env.GATEHOUSE_NO_BROWSER) return false;
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return false;
  return true;
}

export async function openBrowser(url: string): Promise<boolean> {
  try {
    const { default: open } = await import('open');
    const child = await open(url);
    child.on('error', () => undefined);
    return true;
  } catch {
    return false;
  }
}
