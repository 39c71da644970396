import { PasswordInput, Select, Stack, TagsInput, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { zod4Resolver } from 'mantine-form-zod-resolver';
import { useAdmin } from '../../admin-data';
import type { List, Provider } from '../../api';
import { DataTable, PageTitle, Section } from '../../components';
import { dateTime } from '../../format';
import { type ProviderForm, providerBody, providerForm, providerTypes } from '../../forms';
import { useSignedIn } from '../../session';
import { EmptyState, QueryView } from '../../states';
import { CreateDialog, DeleteButton, FormFooter, useChange } from './common';

/** Provider credentials: the organisation's accounts with each vendor. Secrets go in and never come back. */
export function ProvidersPage() {
  const { can } = useSignedIn();
  const providers = useAdmin<List<Provider>>('/providers');
  const manage = can('providers:manage');
  return (
    <Stack>
      <PageTitle description="The organisation's accounts with each AI vendor. Keys are stored encrypted and never shown again.">
        Providers
      </PageTitle>
      <Section
        title="Connected providers"
        actions={
          manage && (
            <CreateDialog label="Connect a provider" title="Connect a provider">
              {(close) => <ConnectProvider onDone={close} />}
            </CreateDialog>
          )
        }
      >
        <QueryView query={providers} label="Loading providers…">
          {({ data }) =>
            data.length === 0 ? (
              <EmptyState title="No provider connected">
                Connect OpenAI, Anthropic, Gemini or Azure OpenAI with the organisation's API key; Bedrock and
                Vertex are connected through the API or gatehouse admin.
              </EmptyState>
            ) : (
              <DataTable
                caption="Provider credentials"
                head={['Name', 'Type', 'Base URL', 'Models', 'Key', 'Added', ...(manage ? [''] : [])]}
                rows={data.map((provider) => [
                  provider.name,
                  provider.type,
                  provider.baseUrl ?? 'default',
                  provider.models?.join(', ') ?? 'its vendor’s',
                  provider.hasApiKey ? 'set' : '—',
                  dateTime(provider.createdAt),
                  ...(manage
                    ? [
                        <DeleteButton
                          key="delete"
                          label="Delete"
                          what={provider.name}
                          consequence="Routing policies that use it must drop it first; calls can no longer reach this account."
                          request={[`/providers/${encodeURIComponent(provider.id)}`, { method: 'DELETE' }]}
                        />,
                      ]
                    : []),
                ])}
              />
            )
          }
        </QueryView>
      </Section>
    </Stack>
  );
}

function ConnectProvider({ onDone }: { onDone: () => void }) {
  const form = useForm<ProviderForm>({
    initialValues: { name: '', type: 'openai', baseUrl: '', apiKey: '', models: [] },
    validate: zod4Resolver(providerForm),
  });
  const create = useChange((values: ProviderForm) => [
    '/providers',
    { method: 'POST', body: providerBody(values) },
  ]);
  return (
    <form onSubmit={form.onSubmit((values) => create.mutate(values, { onSuccess: onDone }))} noValidate>
      <Stack>
        <TextInput label="Name" required {...form.getInputProps('name')} />
        <Select
          label="Type"
          required
          allowDeselect={false}
          data={providerTypes.map((type) => ({ value: type, label: type }))}
          {...form.getInputProps('type')}
        />
        <TextInput
          label="Base URL"
          description="Leave empty for the vendor's own API; set it for Azure or an OpenAI-compatible upstream."
          {...form.getInputProps('baseUrl')}
        />
        <PasswordInput label="API key" required autoComplete="off" {...form.getInputProps('apiKey')} />
        <TagsInput
          label="Models"
          description="Exact ids or * patterns. Empty: its vendor's own models."
          {...form.getInputProps('models')}
        />
        <FormFooter error={create.error} pending={create.isPending} label="Connect" />
      </Stack>
    </form>
  );
}
