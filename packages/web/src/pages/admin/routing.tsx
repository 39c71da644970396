import { Badge, MultiSelect, Stack, Switch, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { zod4Resolver } from 'mantine-form-zod-resolver';
import { useAdmin } from '../../admin-data';
import type { List, Provider, RoutingPolicy } from '../../api';
import { DataTable, PageTitle, Section } from '../../components';
import { type RoutingPolicyForm, routingPolicyBody, routingPolicyForm } from '../../forms';
import { useSignedIn } from '../../session';
import { EmptyState, QueryView } from '../../states';
import { CreateDialog, DeleteButton, FormFooter, useChange } from './common';

/** Routing policies: which provider credentials serve a project's calls, in which order. */
export function RoutingPage() {
  const { can } = useSignedIn();
  const policies = useAdmin<List<RoutingPolicy>>('/routing-policies');
  const providers = useAdmin<List<Provider>>('/providers', can('providers:view'));
  const manage = can('routingPolicies:manage');
  const providerName = (id: string) =>
    providers.data?.data.find((provider) => provider.id === id)?.name ?? id;
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
              {(close) => <CreatePolicy providers={providers.data?.data ?? []} onDone={close} />}
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
                head={['Name', 'Providers, in order', 'Models', '', ...(manage ? [''] : [])]}
                rows={data.map((policy) => [
                  policy.name,
                  policy.providers.map(providerName).join(' → '),
                  policy.allowedModels?.join(', ') ?? 'all',
                  policy.isDefault ? <Badge key="default">default</Badge> : null,
                  ...(manage
                    ? [
                        <DeleteButton
                          key="delete"
                          label="Delete"
                          what={policy.name}
                          consequence="Projects that use it must be moved first."
                          request={[
                            `/routing-policies/${encodeURIComponent(policy.id)}`,
                            { method: 'DELETE' },
                          ]}
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

function CreatePolicy({ providers, onDone }: { providers: Provider[]; onDone: () => void }) {
  const form = useForm<RoutingPolicyForm>({
    initialValues: { name: '', providers: [], isDefault: true },
    validate: zod4Resolver(routingPolicyForm),
  });
  const create = useChange((values: RoutingPolicyForm) => [
    '/routing-policies',
    { method: 'POST', body: routingPolicyBody(values) },
  ]);
  return (
    <form onSubmit={form.onSubmit((values) => create.mutate(values, { onSuccess: onDone }))} noValidate>
      <Stack>
        <TextInput label="Name" required {...form.getInputProps('name')} />
        <MultiSelect
          label="Providers"
          description="Tried in the order picked; the next one is used when one fails."
          required
          data={providers.map((provider) => ({ value: provider.id, label: provider.name }))}
          {...form.getInputProps('providers')}
        />
        <Switch label="The default policy" {...form.getInputProps('isDefault', { type: 'checkbox' })} />
        <FormFooter error={create.error} pending={create.isPending} label="Create" />
      </Stack>
    </form>
  );
}
