import { Alert, Badge, Button, Group, Modal, Stack, Text, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useDisclosure } from '@mantine/hooks';
import { zod4Resolver } from 'mantine-form-zod-resolver';
import { useAdmin } from '../../admin-data';
import type { List, RevokedAccess, Team, User } from '../../api';
import { DANGER, DataTable, GOOD, PageTitle, Section } from '../../components';
import { dateTime, plural } from '../../format';
import { teamForm } from '../../forms';
import { useSignedIn } from '../../session';
import { EmptyState, ErrorState, QueryView } from '../../states';
import { CreateDialog, DeleteButton, EditDialog, FormFooter, useChange } from './common';

/** People (from SSO sign-in or SCIM) and teams (SCIM groups, or made here). */
export function PeoplePage() {
  const { can, me } = useSignedIn();
  const users = useAdmin<List<User>>('/users', can('users:view'));
  const teams = useAdmin<List<Team>>('/teams', can('teams:view'));
  const teamName = (id: string | null) =>
    id === null ? '—' : (teams.data?.data.find((team) => team.id === id)?.name ?? id);
  const manageTeams = can('teams:manage');
  const manageUsers = can('users:manage');
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
                  minWidth={manageUsers ? 760 : 560}
                  head={['Email', 'Name', 'Team', 'Since', 'Status', ...(manageUsers ? [''] : [])]}
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
                    // Not offered on yourself: it would end the session you are using.
                    ...(manageUsers
                      ? [user.id === me.user.id ? null : <RevokeAccess key="revoke" user={user} />]
                      : []),
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
                  minWidth={manageTeams ? 560 : 420}
                  head={['Name', 'From the identity provider', ...(manageTeams ? [''] : [])]}
                  rows={data.map((team) => [
                    team.name,
                    team.externalId ? 'yes' : 'no',
                    ...(manageTeams
                      ? [
                          <Group key="actions" gap="xs" maw={260}>
                            <EditDialog label="Rename" what={team.name} title={`Rename ${team.name}`}>
                              {(close) => <RenameTeam team={team} onDone={close} />}
                            </EditDialog>
                            <DeleteButton
                              label="Delete"
                              what={team.name}
                              consequence="Its members stay, without a team; budgets on it must go first."
                              request={[`/teams/${encodeURIComponent(team.id)}`, { method: 'DELETE' }]}
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

/** A SCIM group's team can be renamed here too; the identity provider's next sync may rename it back. */
function RenameTeam({ team, onDone }: { team: Team; onDone: () => void }) {
  const form = useForm({ initialValues: { name: team.name }, validate: zod4Resolver(teamForm) });
  const rename = useChange((values: { name: string }) => [
    `/teams/${encodeURIComponent(team.id)}`,
    { method: 'PATCH', body: values },
  ]);
  return (
    <form onSubmit={form.onSubmit((values) => rename.mutate(values, { onSuccess: onDone }))} noValidate>
      <Stack>
        <TextInput label="Name" required {...form.getInputProps('name')} />
        <FormFooter error={rename.error} pending={rename.isPending} label="Rename team" />
      </Stack>
    </form>
  );
}

/**
 * Cuts a person off at once (a lost laptop, someone leaving): every key, CLI sign-in and browser
 * session of theirs. They can sign in again unless the identity provider stops them too.
 */
function RevokeAccess({ user }: { user: User }) {
  const [opened, { open, close }] = useDisclosure(false);
  const revoke = useChange<void, RevokedAccess>(() => [
    `/users/${encodeURIComponent(user.id)}/revoke-access`,
    { method: 'POST' },
  ]);
  const done = () => {
    revoke.reset();
    close();
  };
  return (
    <>
      <Button size="xs" variant="outline" color={DANGER} onClick={open}>
        Revoke all access of {user.email}
      </Button>
      <Modal opened={opened} onClose={done} title={`Revoke all access of ${user.email}?`}>
        {revoke.data ? (
          <Stack>
            <Alert color={GOOD} variant="filled" title="Access revoked">
              {plural(revoke.data.revokedKeys, 'key')}, {plural(revoke.data.revokedGrants, 'CLI sign-in')} and{' '}
              {plural(revoke.data.revokedSessions, 'browser session')} revoked.
            </Alert>
            <Group justify="flex-end">
              <Button onClick={done}>Done</Button>
            </Group>
          </Stack>
        ) : (
          <Stack>
            <Text size="sm">
              Every key and CLI sign-in of theirs stops working at once, on every gateway, and their browser
              sessions end. They can sign in again unless your identity provider stops them too.
            </Text>
            {revoke.isError && <ErrorState error={revoke.error} />}
            <Group justify="flex-end">
              <Button variant="default" onClick={done}>
                Cancel
              </Button>
              <Button color={DANGER} loading={revoke.isPending} onClick={() => revoke.mutate()}>
                Revoke all access
              </Button>
            </Group>
          </Stack>
        )}
      </Modal>
    </>
  );
}
