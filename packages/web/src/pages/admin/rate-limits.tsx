import { NumberInput, Select, SimpleGrid, Stack } from '@mantine/core';
import { useForm } from '@mantine/form';
import { zod4Resolver } from 'mantine-form-zod-resolver';
import { useAdmin, useNames } from '../../admin-data';
import type { List, Project, Provider, RateLimit, User, VirtualKey } from '../../api';
import { DataTable, PageTitle, Section } from '../../components';
import { count, dateTime } from '../../format';
import { type RateLimitForm, rateLimitBody, rateLimitForm, rateLimitScopes } from '../../forms';
import { useSignedIn } from '../../session';
import { EmptyState, QueryView } from '../../states';
import { CreateDialog, DeleteButton, FormFooter, useChange } from './common';

const perMinuteText = (value: number | null) => (value === null ? 'no limit' : `${count(value)} / min`);

/** Rate limits: requests and tokens per minute on a key, a person, a project or a provider credential. */
export function RateLimitsPage() {
  const { can } = useSignedIn();
  const limits = useAdmin<List<RateLimit>>('/rate-limits');
  const manage = can('rateLimits:manage');
  const nameOf = useNames({
    users: can('users:view'),
    teams: false,
    providers: can('providers:view'),
    keys: can('virtualKeys:view'),
  });
  return (
    <Stack>
      <PageTitle description="A call over a limit is refused with 429 and a retry-after; one limit per key, person, project or provider credential.">
        Rate limits
      </PageTitle>
      <Section
        title="Rate limits"
        actions={
          manage && (
            <CreateDialog label="Create a rate limit" title="Create a rate limit">
              {(close) => <CreateRateLimit onDone={close} />}
            </CreateDialog>
          )
        }
      >
        <QueryView query={limits} label="Loading rate limits…">
          {({ data }) =>
            data.length === 0 ? (
              <EmptyState title="No rate limits yet">
                Calls are limited only by budgets and the providers until a rate limit is set.
              </EmptyState>
            ) : (
              <DataTable
                caption="Rate limits"
                head={['Applies to', 'Requests', 'Tokens', 'Created', ...(manage ? [''] : [])]}
                rows={data.map((limit) => [
                  `${limit.scope} ${nameOf(limit.scopeId)}`,
                  perMinuteText(limit.requestsPerMinute),
                  perMinuteText(limit.tokensPerMinute),
                  dateTime(limit.createdAt),
                  ...(manage
                    ? [
                        <DeleteButton
                          key="delete"
                          label="Delete"
                          what={`limit on ${limit.scope} ${nameOf(limit.scopeId)}`}
                          consequence="Calls stop being limited at once."
                          request={[`/rate-limits/${encodeURIComponent(limit.id)}`, { method: 'DELETE' }]}
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

function CreateRateLimit({ onDone }: { onDone: () => void }) {
  const { can } = useSignedIn();
  const form = useForm<RateLimitForm>({
    initialValues: { scope: 'key', scopeId: '', requestsPerMinute: 60, tokensPerMinute: '' },
    validate: zod4Resolver(rateLimitForm),
  });
  const scope = form.values.scope;
  const keys = useAdmin<List<VirtualKey>>('/virtual-keys', scope === 'key' && can('virtualKeys:view'));
  const users = useAdmin<List<User>>('/users', scope === 'user' && can('users:view'));
  const projects = useAdmin<List<Project>>('/projects', scope === 'project' && can('organization:view'));
  const providers = useAdmin<List<Provider>>('/providers', scope === 'provider' && can('providers:view'));
  const choices =
    scope === 'key'
      ? (keys.data?.data ?? [])
          .filter((key) => !key.revokedAt)
          .map((key) => ({ value: key.id, label: `${key.name} (${key.hint})` }))
      : scope === 'user'
        ? (users.data?.data ?? []).map((user) => ({ value: user.id, label: user.email }))
        : scope === 'project'
          ? (projects.data?.data ?? []).map((project) => ({ value: project.id, label: project.name }))
          : (providers.data?.data ?? []).map((provider) => ({ value: provider.id, label: provider.name }));
  const create = useChange((values: RateLimitForm) => [
    '/rate-limits',
    { method: 'POST', body: rateLimitBody(values) },
  ]);
  return (
    <form onSubmit={form.onSubmit((values) => create.mutate(values, { onSuccess: onDone }))} noValidate>
      <Stack>
        <Select
          label="Applies to"
          required
          allowDeselect={false}
          data={rateLimitScopes.map((value) => ({
            value,
            label:
              value === 'user' ? 'a person' : `a ${value === 'provider' ? 'provider credential' : value}`,
          }))}
          {...form.getInputProps('scope')}
          onChange={(value) => {
            form.setFieldValue('scope', (value ?? 'key') as RateLimitForm['scope']);
            form.setFieldValue('scopeId', '');
          }}
        />
        <Select
          label={`Which ${scope === 'user' ? 'person' : scope}`}
          required
          searchable
          nothingFoundMessage={`No ${scope} to pick`}
          data={choices}
          {...form.getInputProps('scopeId')}
        />
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <NumberInput
            label="Requests per minute"
            description="Empty: no request limit"
            min={1}
            allowDecimal={false}
            {...form.getInputProps('requestsPerMinute')}
          />
          <NumberInput
            label="Tokens per minute"
            description="Empty: no token limit"
            min={1}
            allowDecimal={false}
            thousandSeparator=","
            {...form.getInputProps('tokensPerMinute')}
          />
        </SimpleGrid>
        <FormFooter error={create.error} pending={create.isPending} label="Create rate limit" />
      </Stack>
    </form>
  );
}
