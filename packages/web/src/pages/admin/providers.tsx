import {
  Badge,
  Button,
  Group,
  JsonInput,
  PasswordInput,
  Select,
  Stack,
  TagsInput,
  Text,
  Textarea,
  TextInput,
} from '@mantine/core';
import { type UseFormReturnType, useForm } from '@mantine/form';
import { useState } from 'react';
import { useAdmin } from '../../admin-data';
import type { ConnectionTest, List, Provider, ProviderType } from '../../api';
import { DANGER, DataTable, GOOD, PageTitle, Section } from '../../components';
import { dateTime } from '../../format';
import {
  connectBody,
  editBody,
  emptyValues,
  fieldsFor,
  inputOf,
  labelOf,
  type ProviderFormMode,
  type ProviderValues,
  providerErrors,
  rotateBody,
  valuesOf,
} from '../../provider-credential';
import { useSignedIn } from '../../session';
import { EmptyState, ErrorState, QueryView } from '../../states';
import { CreateDialog, DeleteButton, EditDialog, FormFooter, useChange } from './common';

/**
 * Provider credentials: the organisation's accounts with each vendor. The forms come from the
 * server's provider types; secrets go in and never come back, so rotating one means typing the
 * new value, and testing one means the server making one cheap call with it.
 */
export function ProvidersPage() {
  const { can } = useSignedIn();
  const providers = useAdmin<List<Provider>>('/providers');
  const types = useAdmin<List<ProviderType>>('/provider-types');
  const manage = can('providers:manage');
  const typeOf = (name: string) => types.data?.data.find((type) => type.type === name);
  return (
    <Stack>
      <PageTitle description="The organisation's accounts with each AI vendor. Secrets are stored encrypted and never shown again.">
        Providers
      </PageTitle>
      <Section
        title="Connected providers"
        actions={
          manage &&
          types.data && (
            <CreateDialog label="Connect a provider" title="Connect a provider">
              {(close) => <ConnectProvider types={types.data.data} onDone={close} />}
            </CreateDialog>
          )
        }
      >
        <QueryView query={providers} label="Loading providers…">
          {({ data }) =>
            data.length === 0 ? (
              <EmptyState title="No provider connected">
                Connect OpenAI, Anthropic, Gemini, Azure OpenAI, Bedrock or Vertex with the organisation's
                credential; every key then reaches it through the routing policies.
              </EmptyState>
            ) : (
              <DataTable
                caption="Provider credentials"
                minWidth={manage ? 980 : 640}
                head={[
                  'Name',
                  'Type',
                  'Base URL',
                  'Models',
                  'Secret',
                  'Added',
                  ...(manage ? ['Connection', ''] : []),
                ]}
                rows={data.map((provider) => {
                  const type = typeOf(provider.type);
                  return [
                    provider.name,
                    provider.type,
                    provider.baseUrl ?? 'default',
                    provider.models?.join(', ') ?? 'its vendor’s',
                    provider.hasApiKey ? 'set' : '—',
                    dateTime(provider.createdAt),
                    ...(manage
                      ? [
                          <ConnectionCheck key="test" provider={provider} />,
                          <Group key="actions" gap="xs" maw={260}>
                            {type && (
                              <EditDialog label="Edit" what={provider.name} title={`Edit ${provider.name}`}>
                                {(close) => (
                                  <ProviderForm mode="edit" type={type} provider={provider} onDone={close} />
                                )}
                              </EditDialog>
                            )}
                            {type && fieldsFor(type, 'rotate').length > 0 && (
                              <EditDialog
                                label="Rotate secret of"
                                what={provider.name}
                                title={`Rotate the secret of ${provider.name}`}
                              >
                                {(close) => (
                                  <ProviderForm
                                    mode="rotate"
                                    type={type}
                                    provider={provider}
                                    onDone={close}
                                  />
                                )}
                              </EditDialog>
                            )}
                            <DeleteButton
                              label="Delete"
                              what={provider.name}
                              consequence="Routing policies that use it must drop it first; calls can no longer reach this account."
                              request={[
                                `/providers/${encodeURIComponent(provider.id)}`,
                                { method: 'DELETE' },
                              ]}
                            />
                          </Group>,
                        ]
                      : []),
                  ];
                })}
              />
            )
          }
        </QueryView>
      </Section>
    </Stack>
  );
}

/** One real request with the stored credential, and what came of it. */
function ConnectionCheck({ provider }: { provider: Provider }) {
  const [result, setResult] = useState<ConnectionTest>();
  const test = useChange<void, ConnectionTest>(() => [
    `/providers/${encodeURIComponent(provider.id)}/test`,
    { method: 'POST' },
  ]);
  return (
    <Stack gap={4} maw={260}>
      <Button
        size="xs"
        variant="default"
        loading={test.isPending}
        onClick={() => {
          // A result on screen while the next test runs would read as that test's answer.
          setResult(undefined);
          test.mutate(undefined, { onSuccess: setResult });
        }}
      >
        Test {provider.name}
      </Button>
      <div role="status" aria-label={`Connection test of ${provider.name}`}>
        {result && (
          <Text size="xs">
            <Badge size="xs" color={result.ok ? GOOD : DANGER} mr={4}>
              {result.ok ? 'Connected' : 'Failed'}
            </Badge>
            {result.status !== null ? `HTTP ${result.status}, ` : ''}
            {result.latencyMs} ms: {result.message}
          </Text>
        )}
        {test.isError && <ErrorState error={test.error} />}
      </div>
    </Stack>
  );
}

function ConnectProvider({ types, onDone }: { types: ProviderType[]; onDone: () => void }) {
  const [typeName, setTypeName] = useState(types[0]?.type ?? 'openai');
  const type = types.find((candidate) => candidate.type === typeName);
  return (
    <Stack>
      <Select
        label="Type"
        required
        allowDeselect={false}
        data={types.map((candidate) => ({ value: candidate.type, label: candidate.type }))}
        value={typeName}
        onChange={(value) => value && setTypeName(value)}
        description={type?.description}
      />
      {/* A new form per type: the fields, and what each requires, are the type's own. */}
      {type && <ProviderForm key={type.type} mode="connect" type={type} onDone={onDone} />}
    </Stack>
  );
}

function ProviderForm({
  mode,
  type,
  provider,
  onDone,
}: {
  mode: ProviderFormMode;
  type: ProviderType;
  provider?: Provider;
  onDone: () => void;
}) {
  const form = useForm<ProviderValues>({
    initialValues: provider && mode === 'edit' ? valuesOf(provider) : emptyValues(type.type),
    validate: (values) => providerErrors(type, values, mode),
  });
  const save = useChange((values: ProviderValues) =>
    mode === 'connect'
      ? ['/providers', { method: 'POST', body: connectBody(type, values) }]
      : [
          `/providers/${encodeURIComponent(provider?.id ?? '')}`,
          { method: 'PATCH', body: mode === 'edit' ? editBody(type, values) : rotateBody(type, values) },
        ],
  );
  return (
    <form onSubmit={form.onSubmit((values) => save.mutate(values, { onSuccess: onDone }))} noValidate>
      <Stack>
        {mode === 'rotate' ? (
          <Text size="sm">
            Type the new secret. The stored one is replaced at once and never shown; a field left empty keeps
            its stored value.
          </Text>
        ) : (
          <>
            <TextInput label="Name" required {...form.getInputProps('name')} />
            <TextInput
              label="Base URL"
              required={type.baseUrlRequired}
              description={
                type.baseUrlRequired
                  ? 'The resource endpoint, e.g. https://acme.openai.azure.com'
                  : "Leave empty for the vendor's own API; set it for an OpenAI-compatible upstream or a proxy."
              }
              {...form.getInputProps('baseUrl')}
            />
            <TagsInput
              label="Models"
              description="Exact ids or * patterns. Empty: its vendor's own models."
              {...form.getInputProps('models')}
            />
          </>
        )}
        <TypeFields form={form} type={type} mode={mode} />
        <FormFooter
          error={save.error}
          pending={save.isPending}
          label={mode === 'connect' ? 'Connect' : mode === 'edit' ? 'Save' : 'Rotate'}
        />
      </Stack>
    </form>
  );
}

/** The type's own fields: a password box for a secret, a text area for a key file, JSON for a map. */
function TypeFields({
  form,
  type,
  mode,
}: {
  form: UseFormReturnType<ProviderValues>;
  type: ProviderType;
  mode: ProviderFormMode;
}) {
  return fieldsFor(type, mode).map((field) => {
    const { label, hint } = labelOf(field);
    const input = inputOf(field);
    const props = {
      label: mode === 'rotate' ? `New ${label.charAt(0).toLowerCase()}${label.slice(1)}` : label,
      description: hint,
      // Rotating keeps what is left empty, so nothing is required there.
      required: field.required && mode !== 'rotate',
      autoComplete: 'off',
      ...form.getInputProps(`fields.${field.name}`),
      value: form.getValues().fields[field.name] ?? '',
    };
    if (input === 'secret') return <PasswordInput key={field.name} {...props} />;
    if (input === 'secret-text') {
      // A key file is long and pasted whole; it is masked by not being shown back, not by dots.
      return <Textarea key={field.name} autosize minRows={3} maxRows={8} spellCheck={false} {...props} />;
    }
    if (input === 'json') return <JsonInput key={field.name} autosize minRows={2} formatOnBlur {...props} />;
    return <TextInput key={field.name} {...props} />;
  });
}
