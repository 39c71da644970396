import { type Html, html, page } from '../html.js';

/** The device approval page's three states, and the loopback consent page. */

export function enterCodePage(message?: string): string {
  return page(
    'Sign in a device',
    html`${message ? html`<p><strong>${message}</strong></p>` : ''}
<p>Enter the code your terminal shows.</p>
<form method="get" action="/api/auth/cli/device">
<p><input name="user_code" autocomplete="off" autofocus required placeholder="XXXX-XXXX" aria-label="Code"></p>
<p><button class="primary" type="submit">Continue</button></p>
</form>`,
  );
}

export interface ApprovalDetails {
  what: string;
  deviceName: string | null;
  /** The program asking: Gatehouse CLI, Claude Code. */
  clientName: string;
  organizationName: string;
  email: string;
  csrfToken: string;
  /** Hidden fields that identify the request being approved. */
  fields: Record<string, string>;
  action: string;
  /** Shown large, so the person can compare it with their terminal. */
  userCode?: string;
}

export function approvalPage(details: ApprovalDetails): string {
  const hidden: Html[] = Object.entries({ ...details.fields, csrf_token: details.csrfToken }).map(
    ([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`,
  );
  return page(
    details.what,
    html`${details.userCode ? html`<p class="code">${details.userCode}</p><p>Check that this is the code on your screen.</p>` : ''}
<dl>
<dt>Program</dt><dd>${details.clientName}</dd>
${details.deviceName ? html`<dt>Device</dt><dd>${details.deviceName}</dd>` : ''}
<dt>Organisation</dt><dd>${details.organizationName}</dd>
<dt>Signed in as</dt><dd>${details.email}</dd>
</dl>
<p>Approving gives this device a personal key that spends on your behalf.</p>
<form method="post" action="${details.action}">
${hidden}
<button class="primary" type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>`,
  );
}

export function resultPage(title: string, message: string): string {
  return page(title, html`<p>${message}</p>`);
}
