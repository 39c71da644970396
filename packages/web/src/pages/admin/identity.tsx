import { Group, PasswordInput, SimpleGrid, Stack, Text, Textarea, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { zod4Resolver } from 'mantine-form-zod-resolver';
import { useState } from 'react';
import { useAdmin } from '../../admin-data';
import type { List, ScimTokenListed, SsoView } from '../../api';
import { Copyable, DataTable, PageTitle, Section, StatusBadge } from '../../components';
import { dateTime } from '../../format';
import {
  type OidcForm,
  oidcBody,
  oidcForm,
  type SamlForm,
  samlBody,
  samlForm,
  scimTokenForm,
} from '../../forms';
import { EmptyState, QueryView } from '../../states';
import { CreateDialog, DeleteButton, FormFooter, ShownOnce, useChange } from './common';

/** Single sign-on (OIDC or SAML) and SCIM provisioning: how people get in and how they are kept in sync. */
export function IdentityPage() {
  const sso = useAdmin<SsoView>('/sso');
  return (
    <Stack>
      <PageTitle description="Connect your identity provider for sign-in, and give its SCIM client a token so people and groups stay in sync.">
        SSO and SCIM
      </PageTitle>
      <QueryView query={sso} label="Loading single sign-on settings…">
        {(settings) => (
          <>
            <Addresses settings={settings} />
            <OidcSection settings={settings} />
            <SamlSection settings={settings} />
          </>
        )}
      </QueryView>
      <ScimTokens />
    </Stack>
  );
}

/** The SCIM service sits beside the sign-in routes, under the same public URL. */
const scimBaseUrl = (settings: SsoView) =>
  `${settings.redirectUri.replace(/\/api\/auth\/sso\/oidc\/callback$/, '')}/scim/v2`;

/** What the identity provider's administrator registers on their side. */
function Addresses({ settings }: { settings: SsoView }) {
  const addresses = [
    { label: 'OIDC redirect URI', value: settings.redirectUri },
    { label: 'SAML assertion consumer service (ACS) URL', value: settings.samlAcsUrl },
    { label: 'SAML metadata URL (also the SP entity ID)', value: settings.samlMetadataUrl },
    { label: 'SCIM base URL', value: scimBaseUrl(settings) },
  ];
  return (
    <Section title="For your identity provider">
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        {addresses.map((address) => (
          <Stack key={address.label} gap={4}>
            <Text size="sm" fw={500}>
              {address.label}
            </Text>
            <Copyable value={address.value} label={address.label} />
          </Stack>
        ))}
      </SimpleGrid>
    </Section>
  );
}

function OidcSection({ settings }: { settings: SsoView }) {
  const stored = settings.oidc;
  return (
    <Section
      title="OpenID Connect"
      actions={
        stored &&
        !stored.fromEnvironment && (
          <DeleteButton
            label="Remove"
            what="the OIDC connection"
            consequence="Nobody can sign in through it any more; people already signed in stay signed in until their session ends."
            request={['/sso/oidc', { method: 'DELETE' }]}
          />
        )
      }
    >
      <Text size="sm" c="dimmed">
        {stored
          ? `Connected to ${stored.issuer} as ${stored.clientId}, ${stored.hasClientSecret ? 'with a client secret' : 'as a public client (PKCE only)'}.`
          : 'Not connected.'}
      </Text>
      {stored?.fromEnvironment && (
        <Text size="sm">
          Set by the server's <code>GATEHOUSE_OIDC_*</code> settings, so it cannot be removed here. A
          connection saved below takes its place for this organisation.
        </Text>
      )}
      <OidcSettings stored={stored} />
    </Section>
  );
}

function OidcSettings({ stored }: { stored: SsoView['oidc'] }) {
  const [saved, setSaved] = useState(false);
  const form = useForm<OidcForm>({
    initialValues: { issuer: stored?.issuer ?? '', clientId: stored?.clientId ?? '', clientSecret: '' },
    validate: zod4Resolver(oidcForm),
  });
  const save = useChange((values: OidcForm) => [
    '/sso/oidc',
    { method: 'PUT', body: oidcBody(values, stored) },
  ]);
  const keeps = stored?.hasClientSecret && stored.clientId === form.values.clientId;
  return (
    <form
      onSubmit={form.onSubmit((values) =>
        save.mutate(values, {
          onSuccess: () => {
            // The secret is write-only: once sent, the field empties and the server keeps it.
            form.setFieldValue('clientSecret', '');
            setSaved(true);
          },
        }),
      )}
      onChange={() => setSaved(false)}
      noValidate
    >
      <Stack>
        <TextInput
          label="Issuer"
          required
          description="Discovery is read from <issuer>/.well-known/openid-configuration"
          {...form.getInputProps('issuer')}
        />
        <TextInput label="Client ID" required {...form.getInputProps('clientId')} />
        <PasswordInput
          label="Client secret"
          autoComplete="new-password"
          description={
            keeps
              ? 'Leave empty to keep the stored secret; it is never shown again.'
              : 'Leave empty for a public client (PKCE only).'
          }
          {...form.getInputProps('clientSecret')}
        />
        {saved && (
          <Text size="sm" aria-live="polite">
            Saved.
          </Text>
        )}
        <FormFooter error={save.error} pending={save.isPending} label="Save OIDC settings" />
      </Stack>
    </form>
  );
}

function SamlSection({ settings }: { settings: SsoView }) {
  const stored = settings.saml;
  const [saved, setSaved] = useState(false);
  const form = useForm<SamlForm>({
    initialValues: {
      entryPoint: stored?.entryPoint ?? '',
      idpEntityId: stored?.idpEntityId ?? '',
      certificates: '',
    },
    validate: zod4Resolver(samlForm),
  });
  const save = useChange((values: SamlForm) => ['/sso/saml', { method: 'PUT', body: samlBody(values) }]);
  return (
    <Section
      title="SAML 2.0"
      actions={
        stored && (
          <DeleteButton
            label="Remove"
            what="the SAML connection"
            consequence="Nobody can sign in through it any more; people already signed in stay signed in until their session ends."
            request={['/sso/saml', { method: 'DELETE' }]}
          />
        )
      }
    >
      <Text size="sm" c="dimmed">
        {stored
          ? `Connected to ${stored.idpEntityId}, with ${stored.certificates} signing certificate${stored.certificates === 1 ? '' : 's'}.`
          : 'Not connected.'}
      </Text>
      <form
        onSubmit={form.onSubmit((values) =>
          save.mutate(values, {
            onSuccess: () => {
              form.setFieldValue('certificates', '');
              setSaved(true);
            },
          }),
        )}
        onChange={() => setSaved(false)}
        noValidate
      >
        <Stack>
          <TextInput
            label="Single sign-on URL"
            required
            description="The identity provider's HTTP-Redirect endpoint"
            {...form.getInputProps('entryPoint')}
          />
          <TextInput label="Identity provider entity ID" required {...form.getInputProps('idpEntityId')} />
          <Textarea
            label="Signing certificates"
            required
            autosize
            minRows={3}
            maxRows={10}
            description={
              stored
                ? 'Paste them again on every change (up to 4, PEM): during a rotation give the old and the new.'
                : 'PEM, up to 4: during a rotation give the old and the new.'
            }
            styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)' } }}
            {...form.getInputProps('certificates')}
          />
          {saved && (
            <Text size="sm" aria-live="polite">
              Saved.
            </Text>
          )}
          <FormFooter error={save.error} pending={save.isPending} label="Save SAML settings" />
        </Stack>
      </form>
    </Section>
  );
}

/** Bearer tokens for the identity provider's SCIM client; shown once, revoked at once. */
function ScimTokens() {
  const tokens = useAdmin<List<ScimTokenListed>>('/scim-tokens');
  return (
    <Section
      title="SCIM tokens"
      actions={
        <CreateDialog label="Create a SCIM token" title="Create a SCIM token">
          {(close) => <CreateScimToken onDone={close} />}
        </CreateDialog>
      }
    >
      <QueryView query={tokens} label="Loading SCIM tokens…">
        {({ data }) =>
          data.length === 0 ? (
            <EmptyState title="No SCIM tokens">
              Create one for your identity provider's provisioning (SCIM) client.
            </EmptyState>
          ) : (
            <DataTable
              caption="SCIM tokens"
              minWidth={620}
              head={['Name', 'Token', 'Created', 'Status', '']}
              rows={data.map((token) => [
                token.name,
                <code key="hint">{token.tokenHint}</code>,
                dateTime(token.createdAt),
                <StatusBadge key="status" revokedAt={token.revokedAt} />,
                token.revokedAt ? null : (
                  <Group key="revoke" justify="flex-end">
                    <DeleteButton
                      label="Revoke"
                      what={token.name}
                      consequence="Its next provisioning call is refused: people and groups stop syncing until the identity provider gets a new token."
                      request={[`/scim-tokens/${encodeURIComponent(token.id)}`, { method: 'DELETE' }]}
                    />
                  </Group>
                ),
              ])}
            />
          )
        }
      </QueryView>
    </Section>
  );
}

function CreateScimToken({ onDone }: { onDone: () => void }) {
  const [secret, setSecret] = useState<string | undefined>();
  const form = useForm({ initialValues: { name: '' }, validate: zod4Resolver(scimTokenForm) });
  const create = useChange<{ name: string }, { token: string }>((values) => [
    '/scim-tokens',
    { method: 'POST', body: values },
  ]);
  if (secret) return <ShownOnce secret={secret} label="SCIM token" onDone={onDone} />;
  return (
    <form
      onSubmit={form.onSubmit((values) =>
        create.mutate(values, { onSuccess: (created) => setSecret(created.token) }),
      )}
      noValidate
    >
      <Stack>
        <TextInput
          label="Name"
          required
          description="Which identity provider uses it, e.g. Okta"
          {...form.getInputProps('name')}
        />
        <FormFooter error={create.error} pending={create.isPending} label="Create token" />
      </Stack>
    </form>
  );
}
