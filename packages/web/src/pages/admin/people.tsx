import { Badge, Stack, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { zod4Resolver } from 'mantine-form-zod-resolver';
import { useAdmin } from '../../admin-data';
import type { List, Team, User } from '../../api';
import { DataTable, PageTitle, Section } from '../../components';
import { dateTime } from '../../format';
import { teamForm } from '../../forms';
import { useSignedIn } from '../../session';
import { EmptyState, QueryView } from '../../states';
import { CreateDialog, DeleteButton, FormFooter, useChange } from './common';

/** People (from SSO sign-in or SCIM) and teams (SCIM groups, or made here). */
export function PeoplePage() {
  const { can } = useSignedIn();
  const users = useAdmin<List<User>>('/users', can('users:view'));
  const teams = useAdmin<List<Team>>('/teams', can('teams:view'));
  const teamName = (id: string | null) =>
    id === null ? '—' : (teams.data?.data.find((team) => team.id === id)?.name ?? id);
  const manageTeams = can('teams:manage');
  return (
    <Stack>
      <PageTitle description="People appear at their first sign-in or when your identity provider provisions them.">
        Users and teams
      </PageTitle>
      {can('users:view') && (
        <Section title="Users">
          <QueryView query={users} label="Loading users…">
            {({ data }) =>
              data.length === 0 ? (
                <EmptyState title="Nobody yet">People show up here once they sign in.</EmptyState>
              ) : (
                <DataTable
                  caption="People in the organisation"
                  head={['Email', 'Name', 'Team', 'Since', 'Status']}
                  rows={data.map((user) => [
                    user.email,
                    user.name ?? '—',
                    teamName(user.teamId),
                    dateTime(user.createdAt),
                    user.disabledAt ? (
                      <Badge key="status" color="gray.7">
                        deactivated
                      </Badge>
                    ) : (
                      <Badge key="status" color="teal.9">
                        active
                      </Badge>
                    ),
                  ])}
                />
              )
            }
          </QueryView>
        </Section>
      )}
      {can('teams:view') && (
        <Section
          title="Teams"
          actions={
            manageTeams && (
              <CreateDialog label="Create a team" title="Create a team">
                {(close) => <CreateTeam onDone={close} />}
              </CreateDialog>
            )
          }
        >
          <QueryView query={teams} label="Loading teams…">
            {({ data }) =>
              data.length === 0 ? (
                <EmptyState title="No teams yet">
                  SCIM groups become teams; you can also create one.
                </EmptyState>
              ) : (
                <DataTable
                  caption="Teams"
                  minWidth={420}
                  head={['Name', 'From the identity provider', ...(manageTeams ? [''] : [])]}
                  rows={data.map((team) => [
                    team.name,
                    team.externalId ? 'yes' : 'no',
                    ...(manageTeams
                      ? [
                          <DeleteButton
                            key="delete"
                            label="Delete"
                            what={team.name}
                            consequence="Its members stay, without a team; budgets on it must go first."
                            request={[`/teams/${encodeURIComponent(team.id)}`, { method: 'DELETE' }]}
                          />,
                        ]
                      : []),
                  ])}
                />
              )
            }
          </QueryView>
        </Section>
      )}
    </Stack>
  );
}

function CreateTeam({ onDone }: { onDone: () => void }) {
  const form = useForm({ initialValues: { name: '' }, validate: zod4Resolver(teamForm) });
  const create = useChange((values: { name: string }) => ['/teams', { method: 'POST', body: values }]);
  return (
    <form onSubmit={form.onSubmit((values) => create.mutate(values, { onSuccess: onDone }))} noValidate>
      <Stack>
        <TextInput label="Name" required {...form.getInputProps('name')} />
        <FormFooter error={create.error} pending={create.isPending} label="Create team" />
      </Stack>
    </form>
  );
}
