import {
  ActionIcon,
  Badge,
  Button,
  Group,
  List,
  Select,
  SimpleGrid,
  Stack,
  Switch,
  TagsInput,
  Text,
  TextInput,
} from '@mantine/core';
import { type UseFormReturnType, useForm } from '@mantine/form';
import { IconX } from '@tabler/icons-react';
import { useQuery } from '@tanstack/react-query';
import { zod4Resolver } from 'mantine-form-zod-resolver';
import { useState } from 'react';
import { useAdmin } from '../../admin-data';
import {
  api,
  type List as ListOf,
  type Provider,
  query,
  type RoutingPolicy,
  type RoutingPreview,
} from '../../api';
import { DANGER, DataTable, GOOD, PageTitle, Section } from '../../components';
import {
  type RoutingPolicyForm,
  routingPolicyBody,
  routingPolicyForm,
  routingPolicyUpdateBody,
  routingPolicyValues,
} from '../../forms';
import { useSignedIn } from '../../session';
import { EmptyState, QueryView } from '../../states';
import { ChainEditor } from './chain-editor';
import { CreateDialog, DeleteButton, EditDialog, FormFooter, useChange } from './common';

/** Routing policies: which provider credentials serve a project's calls, in which order. */
export function RoutingPage() {
  const { can } = useSignedIn();
  const policies = useAdmin<ListOf<RoutingPolicy>>('/routing-policies');
  const providers = useAdmin<ListOf<Provider>>('/providers', can('providers:view'));
  const manage = can('routingPolicies:manage');
  const providerList = providers.data?.data ?? [];
  const providerName = (id: string) => providerList.find((provider) => provider.id === id)?.name ?? id;
  return (
    <Stack>
      <PageTitle description="Which providers serve calls, tried in order. Projects without a policy of their own use the default.">
        Routing policies
      </PageTitle>
      <Section
        title="Policies"
        actions={
          manage && (
            <CreateDialog label="Create a policy" title="Create a routing policy">
              {(close) => <PolicyForm providers={providerList} onDone={close} />}
            </CreateDialog>
          )
        }
      >
        <QueryView query={policies} label="Loading policies…">
          {({ data }) =>
            data.length === 0 ? (
              <EmptyState title="No routing policy">
                Without a default policy no call can be routed. Create one with the providers to try, in
                order.
              </EmptyState>
            ) : (
              <DataTable
                caption="Routing policies"
                minWidth={manage ? 980 : 640}
                head={['Name', 'Providers, in order', 'Aliases', 'Models', '', ...(manage ? [''] : [])]}
                rows={data.map((policy) => [
                  policy.name,
                  policy.providers.map(providerName).join(' → '),
                  aliasSummary(policy.modelAliases),
                  modelRules(policy),
                  policy.isDefault ? <Badge key="default">default</Badge> : null,
                  ...(manage
                    ? [
                        <Group key="actions" gap="xs" maw={260}>
                          <EditDialog label="Edit" what={policy.name} title={`Edit ${policy.name}`}>
                            {(close) => (
                              <PolicyForm providers={providerList} policy={policy} onDone={close} />
                            )}
                          </EditDialog>
                          <DeleteButton
                            label="Delete"
                            what={policy.name}
                            consequence="Projects that use it must be moved first."
                            request={[
                              `/routing-policies/${encodeURIComponent(policy.id)}`,
                              { method: 'DELETE' },
                            ]}
                          />
                        </Group>,
                      ]
                    : []),
                ])}
              />
            )
          }
        </QueryView>
      </Section>
      {(policies.data?.data.length ?? 0) > 0 && <RoutePreview policies={policies.data?.data ?? []} />}
    </Stack>
  );
}

function aliasSummary(aliases: Record<string, string>): string {
  const entries = Object.entries(aliases);
  if (entries.length === 0) return '—';
  return entries.map(([from, to]) => `${from} → ${to}`).join(', ');
}

function modelRules(policy: RoutingPolicy): string {
  const allowed = policy.allowedModels?.join(', ') ?? 'all';
  return policy.deniedModels.length > 0 ? `${allowed}; not ${policy.deniedModels.join(', ')}` : allowed;
}

function PolicyForm({
  providers,
  policy,
  onDone,
}: {
  providers: Provider[];
  policy?: RoutingPolicy;
  onDone: () => void;
}) {
  const form = useForm<RoutingPolicyForm>({
    initialValues: policy
      ? routingPolicyValues(policy)
      : { name: '', providers: [], aliases: [], allowedModels: [], deniedModels: [], isDefault: true },
    validate: zod4Resolver(routingPolicyForm),
  });
  const save = useChange((values: RoutingPolicyForm) =>
    policy
      ? [
          `/routing-policies/${encodeURIComponent(policy.id)}`,
          { method: 'PATCH', body: routingPolicyUpdateBody(values) },
        ]
      : ['/routing-policies', { method: 'POST', body: routingPolicyBody(values) }],
  );
  return (
    <form onSubmit={form.onSubmit((values) => save.mutate(values, { onSuccess: onDone }))} noValidate>
      <Stack>
        <TextInput label="Name" required {...form.getInputProps('name')} />
        <ChainEditor
          providers={providers}
          value={form.getValues().providers}
          onChange={(next) => form.setFieldValue('providers', next)}
          error={form.errors.providers as string | undefined}
        />
        <AliasesEditor form={form} />
        <TagsInput
          label="Allowed models"
          description="Exact ids or * patterns, e.g. claude-*. Empty: every model."
          {...form.getInputProps('allowedModels')}
        />
        <TagsInput
          label="Denied models"
          description="Refused even when allowed, e.g. *-opus-*."
          {...form.getInputProps('deniedModels')}
        />
        <Switch
          label="The default policy"
          description={
            policy?.isDefault
              ? 'Make another policy the default to move it.'
              : 'Projects without a policy of their own use the default.'
          }
          disabled={policy?.isDefault === true}
          {...form.getInputProps('isDefault', { type: 'checkbox' })}
        />
        <FormFooter error={save.error} pending={save.isPending} label={policy ? 'Save' : 'Create'} />
      </Stack>
    </form>
  );
}

/** Aliases: a model name clients ask for, and the one the providers are asked for instead. */
function AliasesEditor({ form }: { form: UseFormReturnType<RoutingPolicyForm> }) {
  const aliases = form.getValues().aliases;
  return (
    <Stack gap="xs">
      <Text size="sm" fw={500}>
        Model aliases
      </Text>
      <Text size="xs" c="dimmed">
        A name clients may ask for, and the model the providers are asked for instead (e.g. fast →
        claude-haiku-4-5).
      </Text>
      {aliases.map((_, index) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: rows have no identity but their place
        <Group key={index} align="flex-start" gap="xs" wrap="nowrap">
          <TextInput
            flex={1}
            aria-label={`Alias ${index + 1}: asked for`}
            placeholder="asked for"
            {...form.getInputProps(`aliases.${index}.from`)}
          />
          <TextInput
            flex={1}
            aria-label={`Alias ${index + 1}: sent as`}
            placeholder="sent as"
            {...form.getInputProps(`aliases.${index}.to`)}
          />
          <ActionIcon
            variant="default"
            color={DANGER}
            mt={6}
            aria-label={`Remove alias ${index + 1}`}
            onClick={() => form.removeListItem('aliases', index)}
          >
            <IconX size={16} />
          </ActionIcon>
        </Group>
      ))}
      <Group>
        <Button
          size="xs"
          variant="default"
          onClick={() => form.insertListItem('aliases', { from: '', to: '' })}
        >
          Add an alias
        </Button>
      </Group>
    </Stack>
  );
}

const previewApis = [
  { value: 'openai-chat', label: 'OpenAI chat completions' },
  { value: 'openai-responses', label: 'OpenAI responses' },
  { value: 'anthropic-messages', label: 'Anthropic messages' },
  { value: 'gemini-generate', label: 'Gemini generateContent' },
  { value: 'openai-embeddings', label: 'OpenAI embeddings' },
];

const policySources: Record<NonNullable<RoutingPreview['policy']>['source'], string> = {
  default: ' (the default)',
  named: '',
  project: " (the project's own)",
};

const skipReasons: Record<NonNullable<RoutingPreview['chain'][number]['skipped']>, string> = {
  unknown_provider_type: 'skipped: this server has no adapter for its type',
  model_not_served: 'skipped: it does not serve this model',
  api_not_spoken: 'skipped: it cannot serve this API',
  circuit_open: 'skipped for now: failing, its circuit is open',
};

/** "Which credential would serve model X": answered by the gateway's own resolver. */
function RoutePreview({ policies }: { policies: RoutingPolicy[] }) {
  const [asked, setAsked] = useState<{ model: string; policyId: string; api: string }>();
  const [model, setModel] = useState('');
  const [policyId, setPolicyId] = useState('default');
  const [apiKind, setApiKind] = useState('openai-chat');
  const preview = useQuery({
    queryKey: ['admin', 'routing-preview', asked],
    enabled: asked !== undefined,
    queryFn: ({ signal }) =>
      api<RoutingPreview>(
        `/api/admin/routing-policies/preview${query({
          model: asked?.model,
          api: asked?.api,
          policyId: asked?.policyId === 'default' ? undefined : asked?.policyId,
        })}`,
        { signal },
      ),
  });
  return (
    <Section title="Which provider would serve a model?">
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (model.trim()) setAsked({ model: model.trim(), policyId, api: apiKind });
        }}
      >
        <SimpleGrid cols={{ base: 1, sm: 2, lg: 4 }} spacing="sm" verticalSpacing="xs">
          <TextInput
            label="Model"
            placeholder="e.g. claude-sonnet-4-6"
            value={model}
            onChange={(event) => setModel(event.currentTarget.value)}
          />
          <Select
            label="Policy"
            allowDeselect={false}
            data={[
              { value: 'default', label: 'The default policy' },
              ...policies.map((policy) => ({ value: policy.id, label: policy.name })),
            ]}
            value={policyId}
            onChange={(value) => setPolicyId(value ?? 'default')}
          />
          <Select
            label="Client API"
            allowDeselect={false}
            data={previewApis}
            value={apiKind}
            onChange={(value) => setApiKind(value ?? 'openai-chat')}
          />
          <Stack justify="flex-end">
            <Button type="submit" variant="default" disabled={model.trim() === ''}>
              Preview
            </Button>
          </Stack>
        </SimpleGrid>
      </form>
      {asked && (
        <QueryView query={preview} label="Resolving…">
          {(answer) => <PreviewAnswer answer={answer} />}
        </QueryView>
      )}
    </Section>
  );
}

function PreviewAnswer({ answer }: { answer: RoutingPreview }) {
  const serving = answer.chain.find((entry) => entry.skipped === null);
  return (
    <Stack gap="xs" mt="sm" data-testid="routing-preview">
      <Text size="sm">
        {answer.requestedModel}
        {answer.policy
          ? ` under policy ${answer.policy.name}${policySources[answer.policy.source]}`
          : ': no policy applies'}
        {answer.model !== answer.requestedModel ? `; it is sent as ${answer.model}` : ''}.
      </Text>
      {answer.refusal ? (
        <Text size="sm" c={DANGER} fw={500}>
          Refused: {answer.refusal.message}
        </Text>
      ) : (
        serving && (
          <Text size="sm" c={GOOD} fw={500}>
            Served by {serving.name} ({serving.type})
            {serving.translated ? `, translated to the ${serving.dialect} API` : ''}.
          </Text>
        )
      )}
      {answer.chain.length > 0 && (
        <List type="ordered" size="sm" aria-label="The chain for this model">
          {answer.chain.map((entry) => (
            <List.Item key={entry.providerId}>
              {entry.name} ({entry.type}):{' '}
              {entry.skipped
                ? `${skipReasons[entry.skipped]}${entry.retryInSeconds ? ` (retried in ${entry.retryInSeconds} s)` : ''}`
                : entry.tryOrder === 1
                  ? 'tried first'
                  : `tried ${ordinal(entry.tryOrder ?? 0)} if the ones before fail`}
            </List.Item>
          ))}
        </List>
      )}
    </Stack>
  );
}

function ordinal(place: number): string {
  return place === 2 ? '2nd' : place === 3 ? '3rd' : `${place}th`;
}
