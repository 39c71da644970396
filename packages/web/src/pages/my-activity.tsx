import { Badge, Button, Group, Stack, Text } from '@mantine/core';
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { api, type MyRequest, query, type UsageReport, type UsageSeries } from '../api';
import { DANGER, DataTable, GOOD, Section } from '../components';
import { count, dateTime, periodStarts, toolName, usd } from '../format';
import { SeriesChart } from '../series-chart';
import { EmptyState, ErrorState, QueryView } from '../states';

/**
 * My spend by day and by tool, and my recent calls. Loaded on demand from the personal page:
 * the chart library stays out of the first screen.
 */

export function MySpend() {
  const { month } = periodStarts();
  const byDay = useQuery({
    queryKey: ['me', 'usage', 'tool-by-day', month],
    queryFn: () =>
      api<UsageSeries>(`/api/me/usage${query({ groupBy: 'tool', from: month, interval: 'day' })}`),
  });
  const byTool = useQuery({
    queryKey: ['me', 'usage', 'tool', month],
    queryFn: () => api<UsageReport>(`/api/me/usage${query({ groupBy: 'tool', from: month })}`),
  });
  return (
    <Section title="My spend this month">
      <QueryView query={byTool} label="Loading your usage…">
        {(data) =>
          data.rows.length === 0 ? (
            <EmptyState title="No calls yet this month">
              Calls you make through the gateway show up here within seconds.
            </EmptyState>
          ) : (
            <Stack>
              {byDay.data && (
                <SeriesChart series={byDay.data} nameOf={toolName} title="My cost per day by tool" />
              )}
              <DataTable
                caption="My spend by coding tool since the start of the month"
                minWidth={420}
                head={['Tool', 'Requests', 'Tokens in / out', 'Cost']}
                rows={[...data.rows]
                  .sort((a, b) => b.costUsd - a.costUsd)
                  .map((row) => [
                    toolName(row.group),
                    count(row.requests),
                    `${count(row.inputTokens)} / ${count(row.outputTokens)}`,
                    usd(row.costUsd),
                  ])}
              />
            </Stack>
          )
        }
      </QueryView>
    </Section>
  );
}

const PAGE_SIZE = 20;

export function MyRequests() {
  const requests = useInfiniteQuery({
    queryKey: ['me', 'requests'],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      api<{ data: MyRequest[]; nextCursor: string | null }>(
        `/api/me/requests${query({ limit: String(PAGE_SIZE), cursor: pageParam })}`,
      ),
    getNextPageParam: (page) => page.nextCursor ?? undefined,
  });
  const rows = requests.data?.pages.flatMap((page) => page.data) ?? [];
  return (
    <Section title="My recent requests">
      <QueryView query={requests} label="Loading your requests…">
        {() =>
          rows.length === 0 ? (
            <EmptyState title="No requests yet">
              Start a tool with gatehouse claude, gatehouse codex or gatehouse gemini.
            </EmptyState>
          ) : (
            <Stack>
              <DataTable
                caption="My calls through the gateway, newest first"
                minWidth={760}
                head={['When', 'Model', 'Tool', 'Status', 'Tokens in / out', 'Latency', 'Cost']}
                rows={rows.map((row) => [
                  dateTime(row.createdAt),
                  row.model,
                  toolName(row.tool),
                  <RequestStatus key="status" request={row} />,
                  `${count(row.inputTokens)} / ${count(row.outputTokens)}`,
                  `${count(row.latencyMs)} ms`,
                  row.unpriced ? 'unpriced' : usd(row.costUsd),
                ])}
              />
              <Group justify="space-between">
                <Text size="sm" c="dimmed">
                  {count(rows.length)} shown
                </Text>
                {requests.hasNextPage && (
                  <Button
                    size="xs"
                    variant="default"
                    loading={requests.isFetchingNextPage}
                    onClick={() => requests.fetchNextPage()}
                  >
                    Load more
                  </Button>
                )}
              </Group>
              {requests.isFetchNextPageError && <ErrorState error={requests.error} />}
            </Stack>
          )
        }
      </QueryView>
    </Section>
  );
}

function RequestStatus({ request }: { request: MyRequest }) {
  const served = request.status < 400;
  return (
    <Badge color={served ? GOOD : DANGER}>
      {request.status}
      {request.errorCode ? ` ${request.errorCode}` : ''}
    </Badge>
  );
}
