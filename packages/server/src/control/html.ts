/**
 * The few server-rendered pages (sign-in results, device approval): plain HTML, every
 * interpolated value escaped, no scripts, framed by nobody.
 */

const escapes: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (character) => escapes[character] ?? character);
}

/** Marks a fragment as already-safe HTML. */
export interface Html {
  readonly html: string;
}

/** Template tag: strings are escaped, `Html` fragments (and arrays of them) are inserted as is. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0] ?? '';
  values.forEach((value, index) => {
    out += render(value) + (strings[index + 1] ?? '');
  });
  return { html: out };
}

function render(value: unknown): string {
  if (value === undefined || value === null || value === false) return '';
  if (Array.isArray(value)) return value.map(render).join('');
  if (typeof value === 'object' && 'html' in value) return (value as Html).html;
  return escapeHtml(String(value));
}

export function page(title: string, body: Html): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Gatehouse</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:4rem auto;padding:0 1rem;color:#1d2330}
h1{font-size:1.4rem}.code{font:600 1.6rem ui-monospace,monospace;letter-spacing:.15em}
button{font:inherit;padding:.5rem 1.2rem;margin-right:.5rem;border-radius:6px;border:1px solid #8891a5;cursor:pointer}
button.primary{background:#1f5fd6;color:#fff;border-color:#1f5fd6}dt{color:#5b6477}dd{margin:0 0 .6rem}
</style>
</head>
<body>
<h1>${title}</h1>
${body}
</body>
</html>`.html;
}

/** Headers every server-rendered page gets: never framed, never cached, no inline script. */
export const pageHeaders = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'x-frame-options': 'DENY',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
  // Not no-referrer: under it browsers send `Origin: null` on the pages' own form posts, which
  // the CSRF check (a foreign Origin is refused) must then refuse. same-origin still sends
  // nothing (no user code in a URL) to any other site.
  'referrer-policy': 'same-origin',
} as const;
