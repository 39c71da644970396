import { Alert, Button, Group, Modal, SimpleGrid, Stack, Text } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { lazy, Suspense, useState } from 'react';
import { api, type List, type MyDevice, type MyKey, type MyStatus } from '../api';
import { BudgetBar, Copyable, DANGER, DataTable, PageTitle, Section, StatusBadge } from '../components';
import { dateTime, usd } from '../format';
import { useSignedIn } from '../session';
import { EmptyState, ErrorState, LoadingState, QueryView } from '../states';

// Spend charts and the request list load after the first screen (the chart library is large).
const MySpend = lazy(() => import('./my-activity').then((module) => ({ default: module.MySpend })));
const MyRequests = lazy(() => import('./my-activity').then((module) => ({ default: module.MyRequests })));

/** `/me`: my keys, devices, spend and budgets, and how to point my tools at the gateway. */
export function MePage() {
  const { me } = useSignedIn();
  const status = useQuery({ queryKey: ['me', 'status'], queryFn: () => api<MyStatus>('/api/me/status') });
  const exhausted = (status.data?.budgets ?? []).filter(
    (budget) => budget.action === 'block' && budget.remainingUsd <= 0,
  );
  return (
    <Stack>
      <PageTitle description={`Signed in as ${me.user.email}.`}>My access</PageTitle>
      {exhausted.map((budget) => (
        <Alert key={budget.id} color={DANGER} variant="filled" title="Budget exhausted" role="alert">
          {budget.name ?? `The ${budget.scope} budget`} ({usd(budget.limitUsd)} per {budget.window}) is spent:
          the gateway refuses calls it covers{budget.resetsAt ? ` until ${dateTime(budget.resetsAt)}` : ''}.
        </Alert>
      ))}
      <SimpleGrid cols={{ base: 1, lg: 2 }}>
        <Suspense fallback={<LoadingState label="Loading your usage…" />}>
          <MySpend />
        </Suspense>
        <Section title="My budgets">
          <QueryView query={status} label="Loading your budgets…">
            {(data) =>
              data.budgets.length === 0 ? (
                <EmptyState title="No budget limits you">
                  Your organisation has set no budget on you or your team.
                </EmptyState>
              ) : (
                <DataTable
                  caption="Budgets that apply to my calls"
                  minWidth={420}
                  head={['Budget', 'Window', 'Action', 'Spent']}
                  rows={data.budgets.map((budget) => [
                    budget.name ?? `${budget.scope} budget`,
                    budget.window,
                    budget.action,
                    <BudgetBar
                      key="bar"
                      spentUsd={budget.spentUsd}
                      limitUsd={budget.limitUsd}
                      label={budget.name ?? budget.scope}
                    />,
                  ])}
                />
              )
            }
          </QueryView>
        </Section>
      </SimpleGrid>
      <GetStarted />
      <MyDevices />
      <MyKeys />
      <Suspense fallback={<LoadingState label="Loading your requests…" />}>
        <MyRequests />
      </Suspense>
    </Stack>
  );
}

function GetStarted() {
  const origin = window.location.origin;
  return (
    <Section title="Use your tools through Gatehouse">
      <Text size="sm">
        Sign the CLI in once on each machine (device code; works over SSH), then start your tools through it:
      </Text>
      <Stack gap="xs">
        <Copyable label="install command" value="npm install -g gatehouse-cli" />
        <Copyable label="login command" value={`gatehouse login --server ${origin}`} />
        <Copyable label="Claude Code command" value="gatehouse claude" />
        <Copyable label="Codex command" value="gatehouse codex" />
        <Copyable label="Gemini CLI command" value="gatehouse gemini" />
      </Stack>
      <Text size="sm">
        Cursor: run <code>gatehouse cursor</code> for a key, then in Settings → Models → API Keys set the
        OpenAI API Key to it and Override OpenAI Base URL to:
      </Text>
      <Copyable label="Cursor base URL" value={`${origin}/api/v1`} />
      <Text size="sm" c="dimmed">
        Anything else that speaks the OpenAI, Anthropic or Gemini API: <code>gatehouse env &lt;tool&gt;</code>{' '}
        prints the variables to export.
      </Text>
    </Section>
  );
}

function MyDevices() {
  const client = useQueryClient();
  const devices = useQuery({
    queryKey: ['me', 'devices'],
    queryFn: () => api<List<MyDevice>>('/api/me/devices'),
  });
  const [revoking, setRevoking] = useState<MyDevice | undefined>();
  const revoke = useMutation({
    mutationFn: (id: string) => api(`/api/me/devices/${encodeURIComponent(id)}`, { method: 'DELETE' }),
    onSuccess: async () => {
      setRevoking(undefined);
      await client.invalidateQueries({ queryKey: ['me'] });
    },
  });
  return (
    <Section title="My devices">
      <QueryView query={devices} label="Loading your devices…">
        {({ data }) =>
          data.length === 0 ? (
            <EmptyState title="No devices signed in">
              Run gatehouse login on a machine to sign it in.
            </EmptyState>
          ) : (
            <DataTable
              caption="Machines where the gatehouse CLI is signed in"
              head={['Device', 'Signed in', 'Status', '']}
              rows={data.map((device) => [
                device.name ?? device.clientId,
                dateTime(device.createdAt),
                <StatusBadge key="status" revokedAt={device.revokedAt} />,
                device.revokedAt ? null : (
                  <Button
                    key="revoke"
                    size="xs"
                    color={DANGER}
                    variant="outline"
                    onClick={() => setRevoking(device)}
                  >
                    Sign out {device.name ?? 'device'}
                  </Button>
                ),
              ])}
            />
          )
        }
      </QueryView>
      <Modal
        opened={revoking !== undefined}
        onClose={() => setRevoking(undefined)}
        title="Sign this device out?"
      >
        <Stack>
          <Text size="sm">
            {revoking?.name ?? 'The device'} loses its sign-in and every key minted for it stops working at
            once. Run gatehouse login there to sign in again.
          </Text>
          {revoke.isError && <ErrorState error={revoke.error} />}
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setRevoking(undefined)}>
              Cancel
            </Button>
            <Button
              color={DANGER}
              loading={revoke.isPending}
              onClick={() => revoking && revoke.mutate(revoking.id)}
            >
              Sign out device
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Section>
  );
}

function MyKeys() {
  const keys = useQuery({ queryKey: ['me', 'keys'], queryFn: () => api<List<MyKey>>('/api/me/keys') });
  return (
    <Section title="My personal keys">
      <QueryView query={keys} label="Loading your keys…">
        {({ data }) =>
          data.length === 0 ? (
            <EmptyState title="No personal keys">
              gatehouse login mints short-lived keys for you; they show up here.
            </EmptyState>
          ) : (
            <DataTable
              caption="Keys minted for me, newest first"
              head={['Name', 'Key', 'Created', 'Expires', 'Status']}
              rows={data.map((key) => [
                key.name,
                <code key="hint">{key.hint}</code>,
                dateTime(key.createdAt),
                key.expiresAt ? dateTime(key.expiresAt) : 'never',
                <StatusBadge key="status" revokedAt={key.revokedAt} expiresAt={key.expiresAt} />,
              ])}
            />
          )
        }
      </QueryView>
    </Section>
  );
}
