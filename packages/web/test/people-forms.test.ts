import { describe, expect, it } from 'vitest';
import {
  oidcBody as serverOidcBody,
  samlBody as serverSamlBody,
} from '../../server/src/control/admin/sso.js';
import { updateBudgetBody, updateTeamBody } from '../../server/src/control/admin/update-schemas.js';
import {
  budgetEditBody,
  budgetEditForm,
  oidcBody,
  oidcForm,
  organizationBody,
  organizationForm,
  personalKeyLifetimes,
  samlBody,
  samlForm,
  splitCertificates,
  teamForm,
} from '../src/forms.js';

/** A PEM-shaped block long enough for the API's length check (the server does not parse it here). */
const certificate = (fill: string) =>
  `-----BEGIN CERTIFICATE-----\n${fill.repeat(120)}\n-----END CERTIFICATE-----`;

/**
 * The people pages' forms (budget edit, team rename, OIDC, SAML, organisation) make bodies the
 * admin API's own schemas accept, and the OIDC form never sends an empty secret.
 */
describe("the people pages' forms and the API's schemas", () => {
  it('makes budget-edit and team-rename bodies the API accepts; an emptied name clears it', () => {
    const values = budgetEditForm.parse({ name: '', limitUsd: 75, action: 'alert' });
    expect(budgetEditBody(values)).toEqual({ name: null, limitUsd: 75, action: 'alert' });
    expect(updateBudgetBody.safeParse(budgetEditBody(values)).success).toBe(true);
    const named = budgetEditForm.parse({ name: ' company ', limitUsd: 5, action: 'block' });
    expect(updateBudgetBody.parse(budgetEditBody(named)).name).toBe('company');
    expect(budgetEditForm.safeParse({ name: '', limitUsd: 0, action: 'block' }).success).toBe(false);
    expect(updateTeamBody.safeParse(teamForm.parse({ name: 'platform-eng' })).success).toBe(true);
  });

  it('keeps the stored OIDC secret only for its own client ID, and sends a new one as given', () => {
    const stored = { clientId: 'web', hasClientSecret: true };
    const edit = oidcForm.parse({ issuer: 'https://idp.example.com', clientId: 'web', clientSecret: '' });
    expect(oidcBody(edit, stored)).toEqual({
      issuer: 'https://idp.example.com',
      clientId: 'web',
      keepClientSecret: true,
    });
    // Another client ID: the stored secret is not its own, so the client is public.
    const moved = { ...edit, clientId: 'other' };
    expect(oidcBody(moved, stored)).toEqual({ issuer: 'https://idp.example.com', clientId: 'other' });
    expect(oidcBody(edit, { clientId: 'web', hasClientSecret: false })).not.toHaveProperty(
      'keepClientSecret',
    );
    const replaced = { ...edit, clientSecret: 's3cret' };
    expect(oidcBody(replaced, stored)).toEqual({
      issuer: 'https://idp.example.com',
      clientId: 'web',
      clientSecret: 's3cret',
    });
    for (const body of [oidcBody(edit, stored), oidcBody(moved, stored), oidcBody(replaced, null)]) {
      expect(serverOidcBody.safeParse(body).success, JSON.stringify(body)).toBe(true);
    }
    expect(oidcForm.safeParse({ issuer: 'not a url', clientId: 'web', clientSecret: '' }).success).toBe(
      false,
    );
  });

  it('splits pasted SAML certificates into the list the API takes', () => {
    const pasted = `${certificate('A')}\n\n${certificate('B')}\n`;
    expect(splitCertificates(pasted)).toEqual([certificate('A'), certificate('B')]);
    expect(splitCertificates(' MIIB'.padEnd(200, 'x'))).toEqual(['MIIB'.padEnd(199, 'x')]);
    expect(splitCertificates('  ')).toEqual([]);
    const values = samlForm.parse({
      entryPoint: 'https://idp.example.com/sso',
      idpEntityId: 'https://idp.example.com',
      certificates: pasted,
    });
    expect(serverSamlBody.safeParse(samlBody(values)).success).toBe(true);
    expect(
      samlForm.safeParse({ entryPoint: 'https://idp.example.com/sso', idpEntityId: 'x', certificates: '' })
        .success,
    ).toBe(false);
  });

  it('makes organisation bodies within what PATCH /organization accepts', () => {
    for (const { value } of personalKeyLifetimes) {
      const body = organizationBody(
        organizationForm.parse({
          name: 'Example Ltd',
          timeZone: 'Europe/Lisbon',
          emailDomains: ['Example.COM'],
          personalKeyTtlSeconds: value,
          storageOutageMode: 'closed',
        }),
      );
      expect(body.emailDomains).toEqual(['example.com']);
      expect(body.personalKeyTtlSeconds).toBeGreaterThanOrEqual(300);
      expect(body.personalKeyTtlSeconds).toBeLessThanOrEqual(30 * 86_400);
    }
    expect(
      organizationForm.safeParse({
        name: 'x',
        timeZone: 'UTC',
        emailDomains: ['not a domain'],
        personalKeyTtlSeconds: '86400',
        storageOutageMode: 'open',
      }).success,
    ).toBe(false);
  });
});
