import { Button, Group, Modal, Select, Stack, Text, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useDisclosure } from '@mantine/hooks';
import type { UseQueryResult } from '@tanstack/react-query';
import { zod4Resolver } from 'mantine-form-zod-resolver';
import { useState } from 'react';
import { useSearchParams } from 'react-router';
import { useAdmin } from '../../admin-data';
import { type List, type Project, query, type User, type VirtualKey } from '../../api';
import { DataTable, PageTitle, Section, StatusBadge } from '../../components';
import { dateTime } from '../../format';
import { keyLifetimes, projectForm, type VirtualKeyForm, virtualKeyBody, virtualKeyForm } from '../../forms';
import { useSignedIn } from '../../session';
import { EmptyState, ErrorState, QueryView } from '../../states';
import { CreateDialog, DeleteButton, FormFooter, ShownOnce, useChange } from './common';

/** Virtual keys: service keys for projects (shown once at creation) and everyone's personal keys. */
export function KeysPage() {
  const { can, holds } = useSignedIn();
  // The filters live in the address, so a link (from a budget, a person) opens the filtered list.
  const [search, setSearch] = useSearchParams();
  const projectId = search.get('project');
  const userId = search.get('person');
  const keys = useAdmin<List<VirtualKey>>(`/virtual-keys${query({ projectId, userId })}`);
  const projects = useAdmin<List<Project>>('/projects', can('organization:view'));
  const users = useAdmin<List<User>>('/users', can('users:view'));
  // Creating needs the permission over the organisation (the form lists all of it); a row's
  // own actions need it over that row's team or project, which the list is limited to already.
  const manage = can('virtualKeys:manage');
  const manageRows = holds('virtualKeys:manage');
  const filterBy = (name: 'project' | 'person', value: string | null) =>
    setSearch(
      (current) => {
        const next = new URLSearchParams(current);
        if (value) next.set(name, value);
        else next.delete(name);
        return next;
      },
      { replace: true },
    );
  const filtered = Boolean(projectId || userId);
  const projectName = (id: string) => projects.data?.data.find((project) => project.id === id)?.name ?? id;
  return (
    <Stack>
      <PageTitle description="What clients send to the gateway. A key is shown once, when it is created; revoking one refuses its very next call.">
        Virtual keys
      </PageTitle>
      <Section
        title="Keys"
        actions={
          manage && (
            <CreateDialog label="Create a key" title="Create a service key">
              {(close) => (
                <CreateKey
                  projects={(projects.data?.data ?? []).filter((p) => !p.isPersonal)}
                  onDone={close}
                />
              )}
            </CreateDialog>
          )
        }
      >
        <Group grow align="flex-start" wrap="wrap">
          {can('organization:view') && (
            <Select
              label="Project"
              placeholder="Every project"
              clearable
              searchable
              miw={200}
              nothingFoundMessage="No such project"
              data={(projects.data?.data ?? []).map((project) => ({
                value: project.id,
                label: project.name,
              }))}
              value={projectId}
              onChange={(value) => filterBy('project', value)}
            />
          )}
          {can('users:view') && (
            <Select
              label="Person"
              description="Their personal keys"
              placeholder="Everyone"
              clearable
              searchable
              miw={200}
              nothingFoundMessage="No such person"
              data={(users.data?.data ?? []).map((user) => ({ value: user.id, label: user.email }))}
              value={userId}
              onChange={(value) => filterBy('person', value)}
            />
          )}
        </Group>
        <QueryView query={keys} label="Loading keys…">
          {({ data }) =>
            data.length === 0 ? (
              filtered ? (
                <EmptyState title="No key matches">Clear a filter to see more keys.</EmptyState>
              ) : (
                <EmptyState title="No keys yet">
                  Create a service key for a project, or sign in with gatehouse login.
                </EmptyState>
              )
            ) : (
              <DataTable
                caption={
                  filtered ? 'Virtual keys matching the filters, newest first' : 'Virtual keys, newest first'
                }
                minWidth={860}
                head={['Name', 'Kind', 'Project', 'Key', 'Expires', 'Status', ...(manageRows ? [''] : [])]}
                rows={data.map((key) => [
                  key.name,
                  key.kind,
                  projectName(key.projectId),
                  <code key="hint">{key.hint}</code>,
                  key.expiresAt ? dateTime(key.expiresAt) : 'never',
                  <StatusBadge key="status" revokedAt={key.revokedAt} expiresAt={key.expiresAt} />,
                  ...(manageRows
                    ? [
                        key.revokedAt ? null : (
                          <Group key="actions" gap="xs" maw={260}>
                            {key.kind === 'service' && !expired(key) && <RotateButton virtualKey={key} />}
                            <DeleteButton
                              label="Revoke"
                              what={key.name}
                              consequence="Every gateway refuses it from its next call on. This cannot be undone."
                              request={[`/virtual-keys/${encodeURIComponent(key.id)}`, { method: 'DELETE' }]}
                            />
                          </Group>
                        ),
                      ]
                    : []),
                ])}
              />
            )
          }
        </QueryView>
      </Section>
      {can('organization:view') && <Projects projects={projects} />}
    </Stack>
  );
}

const expired = (key: VirtualKey) => key.expiresAt !== null && new Date(key.expiresAt) <= new Date();

/**
 * A new secret for a service key: same id, project, budgets and history. Personal keys are not
 * offered it: their owner's CLI sign-in renews them (the server refuses to rotate one).
 */
function RotateButton({ virtualKey }: { virtualKey: VirtualKey }) {
  const [opened, { open, close }] = useDisclosure(false);
  const [secret, setSecret] = useState<string | undefined>();
  const rotate = useChange<void, { key: string }>(() => [
    `/virtual-keys/${encodeURIComponent(virtualKey.id)}/rotate`,
    { method: 'POST' },
  ]);
  const done = () => {
    setSecret(undefined);
    rotate.reset();
    close();
  };
  return (
    <>
      <Button size="xs" variant="outline" onClick={open}>
        Rotate {virtualKey.name}
      </Button>
      <Modal opened={opened} onClose={done} title={`Rotate ${virtualKey.name}?`}>
        {secret ? (
          <ShownOnce secret={secret} label="new key" onDone={done} />
        ) : (
          <Stack>
            <Text size="sm">
              It gets a new secret, shown once. The current one is refused from the very next call, with no
              grace period: update whatever uses it straight away.
            </Text>
            {rotate.isError && <ErrorState error={rotate.error} />}
            <Group justify="flex-end">
              <Button variant="default" onClick={done}>
                Cancel
              </Button>
              <Button
                loading={rotate.isPending}
                onClick={() => rotate.mutate(undefined, { onSuccess: (rotated) => setSecret(rotated.key) })}
              >
                Rotate
              </Button>
            </Group>
          </Stack>
        )}
      </Modal>
    </>
  );
}

function CreateKey({ projects, onDone }: { projects: Project[]; onDone: () => void }) {
  const [secret, setSecret] = useState<string | undefined>();
  const form = useForm<VirtualKeyForm>({
    initialValues: { projectId: projects[0]?.id ?? '', name: '', expiresInSeconds: '0' },
    validate: zod4Resolver(virtualKeyForm),
  });
  const create = useChange<VirtualKeyForm, { key: string }>((values) => [
    '/virtual-keys',
    { method: 'POST', body: virtualKeyBody(values) },
  ]);
  if (secret) return <ShownOnce secret={secret} label="key" onDone={onDone} />;
  return (
    <form
      onSubmit={form.onSubmit((values) =>
        create.mutate(values, { onSuccess: (created) => setSecret(created.key) }),
      )}
      noValidate
    >
      <Stack>
        <Select
          label="Project"
          required
          searchable
          nothingFoundMessage="No project: create one below the keys first"
          data={projects.map((project) => ({ value: project.id, label: project.name }))}
          {...form.getInputProps('projectId')}
        />
        <TextInput
          label="Name"
          required
          description="What uses it, e.g. ci-bot"
          {...form.getInputProps('name')}
        />
        <Select
          label="Expires"
          allowDeselect={false}
          data={keyLifetimes}
          {...form.getInputProps('expiresInSeconds')}
        />
        <FormFooter error={create.error} pending={create.isPending} label="Create key" />
      </Stack>
    </form>
  );
}

function Projects({ projects }: { projects: UseQueryResult<List<Project>> }) {
  const { can } = useSignedIn();
  const manage = can('organization:manage');
  return (
    <Section
      title="Projects"
      actions={
        manage && (
          <CreateDialog label="Create a project" title="Create a project">
            {(close) => <CreateProject onDone={close} />}
          </CreateDialog>
        )
      }
    >
      <QueryView query={projects} label="Loading projects…">
        {({ data }) => {
          const shared = data.filter((project) => !project.isPersonal);
          return shared.length === 0 ? (
            <EmptyState title="No projects yet">
              Service keys belong to a project; create one first.
            </EmptyState>
          ) : (
            <DataTable
              caption="Projects (personal projects left out)"
              minWidth={360}
              head={['Name', 'Routing policy']}
              rows={shared.map((project) => [project.name, project.routingPolicyId ?? 'the default'])}
            />
          );
        }}
      </QueryView>
    </Section>
  );
}

function CreateProject({ onDone }: { onDone: () => void }) {
  const form = useForm({ initialValues: { name: '' }, validate: zod4Resolver(projectForm) });
  const create = useChange((values: { name: string }) => ['/projects', { method: 'POST', body: values }]);
  return (
    <form onSubmit={form.onSubmit((values) => create.mutate(values, { onSuccess: onDone }))} noValidate>
      <Stack>
        <TextInput label="Name" required {...form.getInputProps('name')} />
        <FormFooter error={create.error} pending={create.isPending} label="Create project" />
      </Stack>
    </form>
  );
}
