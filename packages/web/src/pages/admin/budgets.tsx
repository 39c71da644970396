import {
  Group,
  NumberInput,
  SegmentedControl,
  Select,
  SimpleGrid,
  Stack,
  Text,
  TextInput,
} from '@mantine/core';
import { type GetInputPropsReturnType, useForm } from '@mantine/form';
import { useQuery } from '@tanstack/react-query';
import { zod4Resolver } from 'mantine-form-zod-resolver';
import { useId } from 'react';
import { useAdmin, useNames } from '../../admin-data';
import { api, type Budget, type List, type Project, type Team, type User, type VirtualKey } from '../../api';
import { BudgetBar, DataTable, PageTitle, Section } from '../../components';
import { dateTime, usd } from '../../format';
import {
  type BudgetEditForm,
  type BudgetForm,
  budgetBody,
  budgetEditBody,
  budgetEditForm,
  budgetForm,
  budgetScopes,
  budgetWindows,
} from '../../forms';
import { useSignedIn } from '../../session';
import { EmptyState, QueryView } from '../../states';
import { CreateDialog, DeleteButton, EditDialog, FormFooter, useChange } from './common';

/** Spend moves with every call: the list is read again this often while the page is open. */
const LIVE_REFRESH_MS = 15_000;

/** Budgets: spend limits on the organisation, a team, project, person or key, per window. */
export function BudgetsPage() {
  const { can, holds } = useSignedIn();
  const budgets = useQuery({
    queryKey: ['admin', '/budgets'],
    queryFn: ({ signal }) => api<List<Budget>>('/api/admin/budgets', { signal }),
    refetchInterval: LIVE_REFRESH_MS,
  });
  // Creating needs the permission over the organisation (the form lists all of it); a row's
  // own actions need it over that row's team or project, which the list is limited to already.
  const manage = can('budgets:manage');
  const manageRows = holds('budgets:manage');
  const nameOf = useNames({ users: can('users:view'), teams: can('teams:view'), providers: false });
  return (
    <Stack>
      <PageTitle description="A block budget refuses calls once spent (402); an alert budget notifies at 50, 80 and 100 %.">
        Budgets
      </PageTitle>
      <Section
        title="Budgets"
        actions={
          manage && (
            <CreateDialog label="Create a budget" title="Create a budget">
              {(close) => <CreateBudget onDone={close} />}
            </CreateDialog>
          )
        }
      >
        <QueryView query={budgets} label="Loading budgets…">
          {({ data }) =>
            data.length === 0 ? (
              <EmptyState title="No budgets yet">Nothing limits spend until a budget is set.</EmptyState>
            ) : (
              <DataTable
                caption="Budgets with their spend in the current window"
                minWidth={960}
                head={[
                  'Budget',
                  'Applies to',
                  'Window',
                  'Action',
                  'Spent',
                  'Reserved',
                  'Remaining',
                  'Resets',
                  ...(manageRows ? [''] : []),
                ]}
                rows={data.map((budget) => [
                  budget.name ?? '—',
                  budget.scope === 'org' ? 'organisation' : `${budget.scope} ${nameOf(budget.scopeId)}`,
                  budget.window,
                  budget.action,
                  <BudgetBar
                    key="spent"
                    spentUsd={budget.spentUsd}
                    limitUsd={budget.limitUsd}
                    label={budget.name ?? budget.scope}
                  />,
                  // Held for calls in flight: what they cost is not known until they finish.
                  usd(budget.reservedUsd),
                  usd(budget.remainingUsd),
                  budget.resetsAt ? dateTime(budget.resetsAt) : 'never',
                  ...(manageRows
                    ? [
                        <Group key="actions" gap="xs" maw={260}>
                          <EditDialog
                            label="Edit"
                            what={budget.name ?? `${budget.scope} budget`}
                            title={`Edit ${budget.name ?? `the ${budget.scope} budget`}`}
                          >
                            {(close) => <EditBudget budget={budget} onDone={close} />}
                          </EditDialog>
                          <DeleteButton
                            label="Delete"
                            what={budget.name ?? `${budget.scope} budget`}
                            consequence="Its limit stops applying at once."
                            request={[`/budgets/${encodeURIComponent(budget.id)}`, { method: 'DELETE' }]}
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
    </Stack>
  );
}

/** What it applies to and its window stay: a different scope or window is a different budget. */
function EditBudget({ budget, onDone }: { budget: Budget; onDone: () => void }) {
  const form = useForm<BudgetEditForm>({
    initialValues: { name: budget.name ?? '', limitUsd: budget.limitUsd, action: budget.action },
    validate: zod4Resolver(budgetEditForm),
  });
  const save = useChange((values: BudgetEditForm) => [
    `/budgets/${encodeURIComponent(budget.id)}`,
    { method: 'PATCH', body: budgetEditBody(values) },
  ]);
  return (
    <form onSubmit={form.onSubmit((values) => save.mutate(values, { onSuccess: onDone }))} noValidate>
      <Stack>
        <Text size="sm" c="dimmed">
          {budget.window} window; {usd(budget.spentUsd)} spent and {usd(budget.reservedUsd)} reserved so far.
        </Text>
        <TextInput label="Name" description="Optional" {...form.getInputProps('name')} />
        <NumberInput
          label="Limit (USD)"
          required
          min={0.01}
          decimalScale={2}
          {...form.getInputProps('limitUsd')}
        />
        <ActionChoice inputProps={form.getInputProps('action')} />
        <FormFooter error={save.error} pending={save.isPending} label="Save budget" />
      </Stack>
    </form>
  );
}

function CreateBudget({ onDone }: { onDone: () => void }) {
  const { me, can } = useSignedIn();
  const form = useForm<BudgetForm>({
    initialValues: {
      name: '',
      scope: 'org',
      scopeId: me.organization.id,
      limitUsd: 100,
      window: 'month',
      action: 'block',
    },
    validate: zod4Resolver(budgetForm),
  });
  const scope = form.values.scope;
  const teams = useAdmin<List<Team>>('/teams', scope === 'team' && can('teams:view'));
  const users = useAdmin<List<User>>('/users', scope === 'user' && can('users:view'));
  const projects = useAdmin<List<Project>>('/projects', scope === 'project' && can('organization:view'));
  const keys = useAdmin<List<VirtualKey>>('/virtual-keys', scope === 'key' && can('virtualKeys:view'));
  const choices =
    scope === 'team'
      ? (teams.data?.data ?? []).map((team) => ({ value: team.id, label: team.name }))
      : scope === 'user'
        ? (users.data?.data ?? []).map((user) => ({ value: user.id, label: user.email }))
        : scope === 'project'
          ? (projects.data?.data ?? []).map((project) => ({ value: project.id, label: project.name }))
          : (keys.data?.data ?? [])
              .filter((key) => !key.revokedAt)
              .map((key) => ({ value: key.id, label: `${key.name} (${key.hint})` }));
  const create = useChange((values: BudgetForm) => [
    '/budgets',
    { method: 'POST', body: budgetBody(values) },
  ]);
  return (
    <form onSubmit={form.onSubmit((values) => create.mutate(values, { onSuccess: onDone }))} noValidate>
      <Stack>
        <TextInput label="Name" description="Optional" {...form.getInputProps('name')} />
        <Select
          label="Applies to"
          required
          allowDeselect={false}
          data={budgetScopes.map((value) => ({
            value,
            label: value === 'org' ? 'the organisation' : `a ${value}`,
          }))}
          {...form.getInputProps('scope')}
          onChange={(value) => {
            form.setFieldValue('scope', (value ?? 'org') as BudgetForm['scope']);
            form.setFieldValue('scopeId', value === 'org' ? me.organization.id : '');
          }}
        />
        {scope !== 'org' && (
          <Select
            label={`Which ${scope}`}
            required
            searchable
            nothingFoundMessage={`No ${scope} to pick`}
            data={choices}
            {...form.getInputProps('scopeId')}
          />
        )}
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <NumberInput
            label="Limit (USD)"
            required
            min={0.01}
            decimalScale={2}
            {...form.getInputProps('limitUsd')}
          />
          <Select
            label="Window"
            required
            allowDeselect={false}
            data={budgetWindows.map((value) => ({ value, label: value }))}
            {...form.getInputProps('window')}
          />
        </SimpleGrid>
        <ActionChoice inputProps={form.getInputProps('action')} />
        <FormFooter error={create.error} pending={create.isPending} label="Create budget" />
      </Stack>
    </form>
  );
}

/** What a budget does once spent, for the create and the edit form alike. */
function ActionChoice({ inputProps }: { inputProps: GetInputPropsReturnType }) {
  const labelId = useId();
  return (
    <Stack gap={4}>
      <Text size="sm" fw={500} id={labelId}>
        When spent
      </Text>
      <SegmentedControl
        aria-labelledby={labelId}
        data={[
          { value: 'block', label: 'Block calls' },
          { value: 'alert', label: 'Alert only' },
        ]}
        {...inputProps}
      />
    </Stack>
  );
}
