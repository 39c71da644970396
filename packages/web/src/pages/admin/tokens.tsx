import { Select, Stack, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { zod4Resolver } from 'mantine-form-zod-resolver';
import { useState } from 'react';
import { useAdmin } from '../../admin-data';
import type { AdminToken, List } from '../../api';
import { DataTable, PageTitle, Section, StatusBadge } from '../../components';
import { dateTime } from '../../format';
import { type AdminTokenForm, adminTokenBody, adminTokenForm, builtInRoles } from '../../forms';
import { EmptyState, QueryView } from '../../states';
import { CreateDialog, DeleteButton, FormFooter, ShownOnce, useChange } from './common';

const lifetimes = [
  { value: String(7 * 24 * 3600), label: '7 days' },
  { value: String(30 * 24 * 3600), label: '30 days' },
  { value: String(90 * 24 * 3600), label: '90 days' },
  { value: String(366 * 24 * 3600), label: '1 year' },
  { value: '0', label: 'Never expires' },
];

/** Admin tokens for automation (Terraform, scripts): a role's permissions, shown once. */
export function TokensPage() {
  const tokens = useAdmin<List<AdminToken>>('/tokens');
  return (
    <Stack>
      <PageTitle description="Bearer tokens for automation against /api/admin. A token can never hold more than you do.">
        Admin tokens
      </PageTitle>
      <Section
        title="Tokens"
        actions={
          <CreateDialog label="Create a token" title="Create an admin token">
            {(close) => <CreateToken onDone={close} />}
          </CreateDialog>
        }
      >
        <QueryView query={tokens} label="Loading tokens…">
          {({ data }) =>
            data.length === 0 ? (
              <EmptyState title="No admin tokens">
                Create one for each thing that automates Gatehouse.
              </EmptyState>
            ) : (
              <DataTable
                caption="Admin tokens"
                minWidth={720}
                head={['Name', 'Token', 'Permissions', 'Last used', 'Expires', 'Status', '']}
                rows={data.map((token) => [
                  token.name,
                  <code key="hint">{token.tokenHint}</code>,
                  `${token.permissions.length} permissions`,
                  dateTime(token.lastUsedAt),
                  token.expiresAt ? dateTime(token.expiresAt) : 'never',
                  <StatusBadge key="status" revokedAt={token.revokedAt} expiresAt={token.expiresAt} />,
                  token.revokedAt ? null : (
                    <DeleteButton
                      key="revoke"
                      label="Revoke"
                      what={token.name}
                      consequence="Calls with it are refused from now on."
                      request={[`/tokens/${encodeURIComponent(token.id)}`, { method: 'DELETE' }]}
                    />
                  ),
                ])}
              />
            )
          }
        </QueryView>
      </Section>
    </Stack>
  );
}

function CreateToken({ onDone }: { onDone: () => void }) {
  const [secret, setSecret] = useState<string | undefined>();
  const form = useForm<AdminTokenForm>({
    initialValues: { name: '', role: 'viewer', expiresInSeconds: String(90 * 24 * 3600) },
    validate: zod4Resolver(adminTokenForm),
  });
  const create = useChange<AdminTokenForm, { token: string }>((values) => [
    '/tokens',
    { method: 'POST', body: adminTokenBody(values) },
  ]);
  if (secret) return <ShownOnce secret={secret} label="token" onDone={onDone} />;
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
          description="What uses it, e.g. terraform"
          {...form.getInputProps('name')}
        />
        <Select
          label="Role"
          required
          allowDeselect={false}
          data={builtInRoles.map((role) => ({ value: role, label: role }))}
          {...form.getInputProps('role')}
        />
        <Select
          label="Expires"
          allowDeselect={false}
          data={lifetimes}
          {...form.getInputProps('expiresInSeconds')}
        />
        <FormFooter error={create.error} pending={create.isPending} label="Create token" />
      </Stack>
    </form>
  );
}
