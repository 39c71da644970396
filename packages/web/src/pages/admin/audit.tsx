import { Button, Code, Group, SimpleGrid, Stack, Table, Text, TextInput } from '@mantine/core';
import { useInfiniteQuery } from '@tanstack/react-query';
import { type ChangeEvent, Fragment, useState } from 'react';
import { useAdmin } from '../../admin-data';
import {
  type AuditPage as AuditAnswer,
  type AuditCheckpoint,
  type AuditEvent,
  api,
  type List,
  query,
} from '../../api';
import { PageTitle, Section } from '../../components';
import { dateTime } from '../../format';
import { EmptyState, ErrorState, LoadingState, QueryView } from '../../states';

const PAGE = 50;

interface Filters {
  action: string;
  actorId: string;
  targetType: string;
  targetId: string;
  /** `datetime-local` values, in the browser's time zone */
  since: string;
  until: string;
}

const noFilters: Filters = { action: '', actorId: '', targetType: '', targetId: '', since: '', until: '' };

const isoOf = (local: string) => (local === '' ? undefined : new Date(local).toISOString());

/** The audit log: every change, sign-in and revocation, newest first, and its latest signed checkpoint. */
export function AuditPage() {
  const [draft, setDraft] = useState<Filters>(noFilters);
  const [filters, setFilters] = useState<Filters>(noFilters);
  const set = (name: keyof Filters) => (event: ChangeEvent<HTMLInputElement>) =>
    setDraft({ ...draft, [name]: event.currentTarget.value });
  return (
    <Stack>
      <PageTitle description="Every change made through the admin API, sign-in and revocation, hash-chained; secrets are redacted.">
        Audit log
      </PageTitle>
      <Checkpoint />
      <Section title="Events">
        <form
          onSubmit={(event) => {
            event.preventDefault();
            setFilters(draft);
          }}
          aria-label="Filter the audit log"
        >
          <Stack gap="sm">
            <SimpleGrid cols={{ base: 1, sm: 3 }}>
              <TextInput
                label="Action"
                placeholder="e.g. rate_limit.create"
                value={draft.action}
                onChange={set('action')}
              />
              <TextInput label="Actor id" value={draft.actorId} onChange={set('actorId')} />
              <TextInput
                label="Target type"
                placeholder="e.g. budget"
                value={draft.targetType}
                onChange={set('targetType')}
              />
              <TextInput label="Target id" value={draft.targetId} onChange={set('targetId')} />
              <TextInput label="From" type="datetime-local" value={draft.since} onChange={set('since')} />
              <TextInput label="Until" type="datetime-local" value={draft.until} onChange={set('until')} />
            </SimpleGrid>
            <Group justify="flex-end">
              <Button
                variant="default"
                onClick={() => {
                  setDraft(noFilters);
                  setFilters(noFilters);
                }}
              >
                Clear
              </Button>
              <Button type="submit">Apply filters</Button>
            </Group>
          </Stack>
        </form>
        <Events filters={filters} />
      </Section>
    </Stack>
  );
}

function Checkpoint() {
  const checkpoints = useAdmin<List<AuditCheckpoint>>('/audit/checkpoints');
  return (
    <Section title="Signed checkpoint">
      <QueryView query={checkpoints} label="Loading the latest checkpoint…">
        {({ data }) => {
          const latest = data.reduce<AuditCheckpoint | undefined>(
            (best, checkpoint) => (!best || checkpoint.seq > best.seq ? checkpoint : best),
            undefined,
          );
          return (
            <Stack gap={4}>
              <Text size="sm" data-testid="latest-checkpoint">
                {latest
                  ? `Latest signed checkpoint: event ${latest.seq}, signed ${dateTime(latest.createdAt)}`
                  : 'No checkpoint yet: nothing has been recorded.'}
              </Text>
              <Text size="sm" c="dimmed">
                Verify the whole chain with <Code>gatehouse admin audit verify</Code>
              </Text>
            </Stack>
          );
        }}
      </QueryView>
    </Section>
  );
}

function Events({ filters }: { filters: Filters }) {
  const params = {
    action: filters.action.trim(),
    actorId: filters.actorId.trim(),
    targetType: filters.targetType.trim(),
    targetId: filters.targetId.trim(),
    since: isoOf(filters.since),
    until: isoOf(filters.until),
  };
  const events = useInfiniteQuery({
    queryKey: ['admin', '/audit', params],
    queryFn: ({ pageParam, signal }) =>
      api<AuditAnswer>(`/api/admin/audit${query({ ...params, limit: PAGE, cursor: pageParam })}`, { signal }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  if (events.isPending) return <LoadingState label="Loading the audit log…" />;
  if (events.isError && !events.isFetchNextPageError) {
    return <ErrorState error={events.error} onRetry={() => events.refetch()} />;
  }
  if (!events.data) return null;
  const rows = events.data.pages.flatMap((page) => page.data);
  if (rows.length === 0) {
    return <EmptyState title="No events">Nothing recorded matches these filters.</EmptyState>;
  }
  return (
    <Stack gap="sm">
      <EventTable rows={rows} />
      {events.isFetchNextPageError && (
        <ErrorState error={events.error} onRetry={() => events.fetchNextPage()} />
      )}
      {events.hasNextPage && (
        <Group justify="center">
          <Button
            variant="default"
            loading={events.isFetchingNextPage}
            onClick={() => events.fetchNextPage()}
          >
            Load more
          </Button>
        </Group>
      )}
    </Stack>
  );
}

function EventTable({ rows }: { rows: AuditEvent[] }) {
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set());
  const toggle = (id: string) => {
    const next = new Set(open);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setOpen(next);
  };
  return (
    // Scrolls sideways on a phone; focusable, so the keyboard can scroll it too.
    <Table.ScrollContainer minWidth={720} type="native" tabIndex={0}>
      <Table striped verticalSpacing="xs" captionSide="top" styles={{ caption: { textAlign: 'left' } }}>
        <Table.Caption>Audit events, newest first</Table.Caption>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Event</Table.Th>
            <Table.Th>Time</Table.Th>
            <Table.Th>Action</Table.Th>
            <Table.Th>Actor</Table.Th>
            <Table.Th>Target</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map((event) => {
            const expanded = open.has(event.id);
            const detailsId = `audit-${event.id}`;
            return (
              <Fragment key={event.id}>
                <Table.Tr>
                  <Table.Td>
                    <Button
                      size="xs"
                      variant="default"
                      aria-expanded={expanded}
                      aria-controls={expanded ? detailsId : undefined}
                      onClick={() => toggle(event.id)}
                    >
                      {expanded ? 'Hide' : 'Show'} event {event.seq}
                    </Button>
                  </Table.Td>
                  <Table.Td>{dateTime(event.occurredAt)}</Table.Td>
                  <Table.Td>
                    <Code>{event.action}</Code>
                  </Table.Td>
                  <Table.Td>{event.actorLabel ?? event.actorId ?? event.actorKind}</Table.Td>
                  <Table.Td>
                    {event.targetType ?? '—'} {event.targetId ?? ''}
                  </Table.Td>
                </Table.Tr>
                {expanded && (
                  <Table.Tr id={detailsId}>
                    <Table.Td colSpan={5}>
                      <SimpleGrid cols={{ base: 1, sm: 2 }}>
                        <Json title="Before" value={event.before} />
                        <Json title="After" value={event.after} />
                      </SimpleGrid>
                    </Table.Td>
                  </Table.Tr>
                )}
              </Fragment>
            );
          })}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

function Json({ title, value }: { title: string; value: unknown }) {
  return (
    <Stack gap={4} miw={0}>
      <Text size="sm" fw={600}>
        {title}
      </Text>
      <Code block style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-all' }}>
        {value === null || value === undefined ? '(none)' : JSON.stringify(value, null, 2)}
      </Code>
    </Stack>
  );
}
