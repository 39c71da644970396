import { MultiSelect, Select, Stack, Text, Textarea, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { zod4Resolver } from 'mantine-form-zod-resolver';
import { useAdmin, useNames } from '../../admin-data';
import type { GrantScope, List, Role, RoleBinding, Team, User } from '../../api';
import { DataTable, PageTitle, Section } from '../../components';
import {
  type BindingForm,
  bindingBody,
  bindingForm,
  type CustomRoleForm,
  customRoleBody,
  customRoleForm,
  permissionCatalogue,
} from '../../forms';
import { useSignedIn } from '../../session';
import { EmptyState, QueryView } from '../../states';
import { CreateDialog, DeleteButton, FormFooter, useChange } from './common';

const scopeText = (scope: GrantScope) =>
  scope.kind === 'organization' ? 'organisation' : `${scope.kind} ${scope.id}`;

/** Roles (built-in and custom) and who holds them where. */
export function RolesPage() {
  const { can } = useSignedIn();
  const roles = useAdmin<List<Role>>('/roles');
  const bindings = useAdmin<List<RoleBinding>>('/role-bindings');
  const nameOf = useNames({ users: can('users:view'), teams: can('teams:view'), providers: false });
  return (
    <Stack>
      <PageTitle description="A binding gives a person, a team or an identity-provider group a role, over the organisation or one team or project.">
        Roles and bindings
      </PageTitle>
      <Section
        title="Bindings"
        actions={
          <CreateDialog label="Bind a role" title="Bind a role">
            {(close) => <CreateBinding roles={roles.data?.data ?? []} onDone={close} />}
          </CreateDialog>
        }
      >
        <QueryView query={bindings} label="Loading bindings…">
          {({ data }) =>
            data.length === 0 ? (
              <EmptyState title="No bindings">Everyone is a member until a role is bound to them.</EmptyState>
            ) : (
              <DataTable
                caption="Role bindings"
                head={['Role', 'Who', 'Where', '']}
                rows={data.map((binding) => [
                  binding.role,
                  `${binding.subject.kind} ${binding.subject.kind === 'idpGroup' ? binding.subject.id : nameOf(binding.subject.id)}`,
                  scopeText(binding.scope),
                  <DeleteButton
                    key="delete"
                    label="Remove"
                    what={`${binding.role} of ${nameOf(binding.subject.id)}`}
                    consequence="The permissions go at their next request."
                    request={[`/role-bindings/${encodeURIComponent(binding.id)}`, { method: 'DELETE' }]}
                  />,
                ])}
              />
            )
          }
        </QueryView>
      </Section>
      <Section
        title="Roles"
        actions={
          <CreateDialog label="Create a custom role" title="Create a custom role">
            {(close) => <CreateRole onDone={close} />}
          </CreateDialog>
        }
      >
        <QueryView query={roles} label="Loading roles…">
          {({ data }) => (
            <DataTable
              caption="Built-in and custom roles"
              minWidth={720}
              head={['Role', 'Kind', 'Permissions', '']}
              rows={data.map((role) => [
                <Stack key="role" gap={0}>
                  <Text size="sm">{role.name}</Text>
                  {role.description && (
                    <Text size="xs" c="dimmed">
                      {role.description}
                    </Text>
                  )}
                </Stack>,
                role.builtIn ? 'built-in' : 'custom',
                <Text key="permissions" size="xs">
                  {role.permissions.join(', ')}
                </Text>,
                role.builtIn ? null : (
                  <DeleteButton
                    key="delete"
                    label="Delete"
                    what={`role ${role.name}`}
                    consequence="Its bindings go with it; whoever held it loses its permissions at their next request."
                    request={[`/roles/${encodeURIComponent(role.id)}`, { method: 'DELETE' }]}
                  />
                ),
              ])}
            />
          )}
        </QueryView>
      </Section>
    </Stack>
  );
}

function CreateBinding({ roles, onDone }: { roles: Role[]; onDone: () => void }) {
  const { can } = useSignedIn();
  const form = useForm<BindingForm>({
    initialValues: { role: 'viewer', subjectKind: 'user', subjectId: '' },
    validate: zod4Resolver(bindingForm),
  });
  const kind = form.values.subjectKind;
  const users = useAdmin<List<User>>('/users', kind === 'user' && can('users:view'));
  const teams = useAdmin<List<Team>>('/teams', kind === 'team' && can('teams:view'));
  const create = useChange((values: BindingForm) => [
    '/role-bindings',
    { method: 'POST', body: bindingBody(values) },
  ]);
  return (
    <form onSubmit={form.onSubmit((values) => create.mutate(values, { onSuccess: onDone }))} noValidate>
      <Stack>
        <Select
          label="Role"
          required
          allowDeselect={false}
          data={roles.map((role) => ({ value: role.id, label: role.name }))}
          {...form.getInputProps('role')}
        />
        <Select
          label="Given to"
          required
          allowDeselect={false}
          data={[
            { value: 'user', label: 'a person' },
            { value: 'team', label: 'a team' },
            { value: 'idpGroup', label: 'an identity-provider group' },
          ]}
          {...form.getInputProps('subjectKind')}
          onChange={(value) => {
            form.setFieldValue('subjectKind', (value ?? 'user') as BindingForm['subjectKind']);
            form.setFieldValue('subjectId', '');
          }}
        />
        {kind === 'idpGroup' ? (
          <TextInput label="Group name" required {...form.getInputProps('subjectId')} />
        ) : (
          <Select
            label={kind === 'user' ? 'Person' : 'Team'}
            required
            searchable
            data={
              kind === 'user'
                ? (users.data?.data ?? []).map((user) => ({ value: user.id, label: user.email }))
                : (teams.data?.data ?? []).map((team) => ({ value: team.id, label: team.name }))
            }
            {...form.getInputProps('subjectId')}
          />
        )}
        <FormFooter error={create.error} pending={create.isPending} label="Bind" />
      </Stack>
    </form>
  );
}

function CreateRole({ onDone }: { onDone: () => void }) {
  const form = useForm<CustomRoleForm>({
    initialValues: { name: '', description: '', permissions: [] },
    validate: zod4Resolver(customRoleForm),
  });
  const create = useChange((values: CustomRoleForm) => [
    '/roles',
    { method: 'POST', body: customRoleBody(values) },
  ]);
  return (
    <form onSubmit={form.onSubmit((values) => create.mutate(values, { onSuccess: onDone }))} noValidate>
      <Stack>
        <TextInput label="Name" required {...form.getInputProps('name')} />
        <Textarea
          label="Description"
          description="Optional"
          autosize
          minRows={2}
          {...form.getInputProps('description')}
        />
        <MultiSelect
          label="Permissions"
          description="You can grant only permissions you hold yourself."
          required
          searchable
          clearable
          data={permissionCatalogue.map((permission) => ({ value: permission, label: permission }))}
          {...form.getInputProps('permissions')}
        />
        <FormFooter error={create.error} pending={create.isPending} label="Create role" />
      </Stack>
    </form>
  );
}
