import { Button, Paper, Select, SimpleGrid, Stack, Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useSearchParams } from 'react-router';
import { useAdmin, useNames } from '../admin-data';
import {
  api,
  type List,
  type Project,
  query,
  type Team,
  type UsageReport,
  type UsageRow,
  type UsageSeries,
  type User,
  type VirtualKey,
} from '../api';
import { DataTable, PageTitle, Section } from '../components';
import { count, toolName, usd } from '../format';
import { SeriesChart } from '../series-chart';
import { useSignedIn } from '../session';
import { EmptyState, QueryView } from '../states';

const periods = [
  { value: 'today', label: 'Today' },
  { value: '7d', label: 'Last 7 days' },
  { value: 'month', label: 'This month' },
  { value: '30d', label: 'Last 30 days' },
  { value: 'all', label: 'All time' },
];

function periodStart(period: string, now = new Date()): string | undefined {
  const day = 24 * 3600 * 1000;
  switch (period) {
    case 'today':
      return new Date(now.getFullYear(), now.getMonth(), now.getDate()).toISOString();
    case '7d':
      return new Date(now.getTime() - 7 * day).toISOString();
    case '30d':
      return new Date(now.getTime() - 30 * day).toISOString();
    case 'all':
      return undefined;
    default:
      return new Date(now.getFullYear(), now.getMonth(), 1).toISOString();
  }
}

const groupings = ['model', 'principal', 'team', 'project', 'key', 'provider', 'tool'] as const;
const groupLabels: Record<string, string> = {
  model: 'Model',
  principal: 'Person or service key',
  team: 'Team',
  project: 'Project',
  key: 'Key',
  provider: 'Provider',
  tool: 'Coding tool',
};
const statuses = [
  { value: 'served', label: 'Served' },
  { value: 'refused', label: 'Refused' },
  { value: 'errors', label: 'Errors' },
];

/** The filters as they are on the address, so a view can be shared or reloaded. */
function useFilters() {
  const [params, setParams] = useSearchParams();
  const get = (name: string) => params.get(name) ?? undefined;
  const set = (name: string, value: string | null) => {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    setParams(next, { replace: true });
  };
  return { get, set };
}

/** CSV of what the table shows, with the filters in the file name. */
function exportCsv(rows: UsageRow[], groupBy: string, nameOf: (id: string | null) => string) {
  const header = [
    'group',
    'name',
    'requests',
    'refused',
    'errors',
    'inputTokens',
    'outputTokens',
    'cacheReadTokens',
    'cacheWriteTokens',
    'costUsd',
  ];
  const cell = (value: string | number) => {
    const text = String(value);
    // Quoted, and a leading formula character defused, so a spreadsheet opens it as text.
    return `"${(/^[=+\-@]/.test(text) ? `'${text}` : text).replaceAll('"', '""')}"`;
  };
  const lines = [
    header.join(','),
    ...rows.map((row) =>
      [
        row.group ?? '',
        nameOf(row.group),
        row.requests,
        row.refused,
        row.errors,
        row.inputTokens,
        row.outputTokens,
        row.cacheReadTokens,
        row.cacheWriteTokens,
        row.costUsd,
      ]
        .map(cell)
        .join(','),
    ),
  ];
  const link = document.createElement('a');
  link.href = URL.createObjectURL(new Blob([`${lines.join('\n')}\n`], { type: 'text/csv' }));
  link.download = `gatehouse-usage-by-${groupBy}.csv`;
  link.click();
  URL.revokeObjectURL(link.href);
}

/** Usage explorer: the organisation's with usage:view, otherwise the person's own. */
export function UsagePage() {
  const { can } = useSignedIn();
  const whole = can('usage:view');
  const filters = useFilters();
  const groupBy = filters.get('groupBy') ?? (whole ? 'principal' : 'model');
  const period = filters.get('period') ?? 'month';
  const from = periodStart(period);
  const chosen = {
    principalId: filters.get('principalId'),
    teamId: filters.get('teamId'),
    projectId: filters.get('projectId'),
    keyId: filters.get('keyId'),
    model: filters.get('model'),
    providerId: filters.get('providerId'),
    status: filters.get('status'),
    tool: filters.get('tool'),
  };
  const own = { model: chosen.model, status: chosen.status, tool: chosen.tool };
  const base = whole ? '/api/admin/usage' : '/api/me/usage';
  const filtersChosen = whole ? chosen : own;
  const path = `${base}${query({ groupBy, from, ...filtersChosen })}`;
  const usage = useQuery({
    queryKey: ['usage', path],
    queryFn: ({ signal }) => api<UsageReport>(path, { signal }),
  });
  // Hours for today, days otherwise; "all time" shows the server's default span (30 days).
  const interval = period === 'today' ? 'hour' : 'day';
  const seriesPath = `${base}${query({ groupBy, from, interval, ...filtersChosen })}`;
  const series = useQuery({
    queryKey: ['usage', seriesPath],
    queryFn: ({ signal }) => api<UsageSeries>(seriesPath, { signal }),
  });
  const tools = useQuery({
    queryKey: ['usage', 'tools', whole, from],
    queryFn: () => api<UsageReport>(`${base}${query({ groupBy: 'tool', from })}`),
  });
  const models = useQuery({
    queryKey: ['usage', 'models', whole, from],
    queryFn: () => api<UsageReport>(`${base}${query({ groupBy: 'model', from })}`),
  });
  const users = useAdmin<List<User>>('/users', whole && can('users:view'));
  const teams = useAdmin<List<Team>>('/teams', whole && can('teams:view'));
  const projects = useAdmin<List<Project>>('/projects', whole && can('organization:view'));
  const keys = useAdmin<List<VirtualKey>>('/virtual-keys', whole && can('virtualKeys:view'));
  const providers = useAdmin<List<{ id: string; name: string }>>(
    '/providers',
    whole && can('providers:view'),
  );
  const names = useNames({
    users: whole && can('users:view'),
    teams: whole && can('teams:view'),
    providers: whole && can('providers:view'),
  });
  const keyNames = new Map((keys.data?.data ?? []).map((key) => [key.id, `${key.name} (${key.hint})`]));
  const projectNames = new Map((projects.data?.data ?? []).map((project) => [project.id, project.name]));
  // A service key's calls have the key itself as their principal, so key names are looked up too.
  // Grouped by tool, a group is a tool's id ("claude-code"), shown by its own name.
  const nameOf = (id: string | null) =>
    groupBy === 'tool'
      ? toolName(id)
      : id === null
        ? '(none)'
        : (keyNames.get(id) ?? projectNames.get(id) ?? names(id));

  const filter = (label: string, name: string, data: { value: string; label: string }[]) => (
    <Select
      label={label}
      placeholder="Any"
      clearable
      searchable
      data={data}
      value={filters.get(name) ?? null}
      onChange={(value) => filters.set(name, value)}
    />
  );
  return (
    <Stack>
      <PageTitle
        description={
          whole
            ? 'Every call through the gateway, grouped and filtered.'
            : 'Your own calls through the gateway.'
        }
      >
        Usage
      </PageTitle>
      <Paper withBorder p="md" radius="md" component="section" aria-label="Filters">
        <SimpleGrid cols={{ base: 2, lg: 4 }}>
          <Select
            label="Group by"
            allowDeselect={false}
            data={(whole ? groupings : (['model', 'provider', 'tool'] as const)).map((value) => ({
              value,
              label: groupLabels[value] ?? value,
            }))}
            value={groupBy}
            onChange={(value) => filters.set('groupBy', value)}
          />
          <Select
            label="Time"
            allowDeselect={false}
            data={periods}
            value={period}
            onChange={(value) => filters.set('period', value)}
          />
          {filter(
            'Model',
            'model',
            (models.data?.rows ?? []).flatMap((row) =>
              row.group ? [{ value: row.group, label: row.group }] : [],
            ),
          )}
          {filter('Status', 'status', statuses)}
          {filter(
            'Coding tool',
            'tool',
            (tools.data?.rows ?? []).flatMap((row) =>
              row.group ? [{ value: row.group, label: toolName(row.group) }] : [],
            ),
          )}
          {whole &&
            can('users:view') &&
            filter(
              'Person',
              'principalId',
              (users.data?.data ?? []).map((user) => ({ value: user.id, label: user.email })),
            )}
          {whole &&
            can('teams:view') &&
            filter(
              'Team',
              'teamId',
              (teams.data?.data ?? []).map((team) => ({ value: team.id, label: team.name })),
            )}
          {whole &&
            can('organization:view') &&
            filter(
              'Project',
              'projectId',
              (projects.data?.data ?? []).map((project) => ({ value: project.id, label: project.name })),
            )}
          {whole &&
            can('virtualKeys:view') &&
            filter(
              'Key',
              'keyId',
              (keys.data?.data ?? []).map((key) => ({ value: key.id, label: `${key.name} (${key.hint})` })),
            )}
          {whole &&
            can('providers:view') &&
            filter(
              'Provider',
              'providerId',
              (providers.data?.data ?? []).map((provider) => ({ value: provider.id, label: provider.name })),
            )}
        </SimpleGrid>
      </Paper>
      <QueryView query={usage} label="Loading usage…">
        {(data) => {
          const totals = data.rows.reduce(
            (sum, row) => ({
              requests: sum.requests + row.requests,
              refused: sum.refused + row.refused,
              errors: sum.errors + row.errors,
              tokens: sum.tokens + row.inputTokens + row.outputTokens,
              costUsd: sum.costUsd + row.costUsd,
            }),
            { requests: 0, refused: 0, errors: 0, tokens: 0, costUsd: 0 },
          );
          return (
            <>
              <SimpleGrid cols={{ base: 2, sm: 4 }} component="section" aria-label="Totals">
                {[
                  ['Cost', usd(totals.costUsd)],
                  ['Requests', count(totals.requests)],
                  ['Refused or failed', count(totals.refused + totals.errors)],
                  ['Tokens', count(totals.tokens)],
                ].map(([label, value]) => (
                  <Paper key={label} withBorder p="sm" radius="md">
                    <Text size="sm" c="dimmed">
                      {label}
                    </Text>
                    <Text fz={22} fw={700} data-testid={`total-${label}`}>
                      {value}
                    </Text>
                  </Paper>
                ))}
              </SimpleGrid>
              <Section title="Cost over time">
                <QueryView query={series} label="Loading the time series…">
                  {(data) =>
                    data.rows.length === 0 ? (
                      <EmptyState title="No spend in this period">
                        Widen the time or clear a filter.
                      </EmptyState>
                    ) : (
                      <SeriesChart
                        series={data}
                        nameOf={nameOf}
                        title={`Cost per ${data.interval} by ${groupLabels[groupBy]?.toLowerCase() ?? groupBy}`}
                      />
                    )
                  }
                </QueryView>
              </Section>
              <Section
                title={`By ${groupLabels[groupBy]?.toLowerCase() ?? groupBy}`}
                actions={
                  <Button
                    size="xs"
                    variant="default"
                    disabled={data.rows.length === 0}
                    onClick={() => exportCsv(data.rows, groupBy, nameOf)}
                  >
                    Export CSV
                  </Button>
                }
              >
                {data.rows.length === 0 ? (
                  <EmptyState title="No calls match">Widen the time or clear a filter.</EmptyState>
                ) : (
                  <DataTable
                    caption="Usage rows for the current filters"
                    minWidth={720}
                    head={[
                      groupLabels[groupBy] ?? groupBy,
                      'Requests',
                      'Refused',
                      'Errors',
                      'Input tokens',
                      'Output tokens',
                      'Cost',
                    ]}
                    rows={[...data.rows]
                      .sort((a, b) => b.costUsd - a.costUsd)
                      .map((row) => [
                        nameOf(row.group),
                        count(row.requests),
                        count(row.refused),
                        count(row.errors),
                        count(row.inputTokens),
                        count(row.outputTokens),
                        usd(row.costUsd),
                      ])}
                  />
                )}
              </Section>
            </>
          );
        }}
      </QueryView>
    </Stack>
  );
}
