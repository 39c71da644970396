import { Anchor, Badge, Group, Paper, SegmentedControl, SimpleGrid, Text } from '@mantine/core';
import type { UseQueryResult } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { useAdmin, useNames } from '../admin-data';
import { type GovernanceSummary, query, type UsageSeries } from '../api';
import { DANGER, DataTable, GOOD, Section } from '../components';
import { count, periodStarts, toolName, usd } from '../format';
import { SeriesChart } from '../series-chart';
import { useSignedIn } from '../session';
import { EmptyState, QueryView } from '../states';

/**
 * The governance home's figures, read in one call from `GET /governance/summary`: spend against
 * the previous period up to the same point, active people, who spends most and with what, and
 * how each provider has been answering.
 */

export function useGovernanceSummary(enabled: boolean) {
  return useAdmin<GovernanceSummary>('/governance/summary', enabled);
}

/** "+25 % on yesterday by this time"; nothing to compare with says so instead of "+∞ %". */
function comparison(costUsd: number, previousUsd: number, previous: string): string {
  if (previousUsd === 0) return costUsd === 0 ? `nothing spent, as ${previous}` : `nothing spent ${previous}`;
  const change = Math.round(((costUsd - previousUsd) / previousUsd) * 100);
  return `${change >= 0 ? '+' : '−'}${Math.abs(change)} % on ${previous} (${usd(previousUsd)})`;
}

/**
 * One headline figure on a card: its label, the value read from `query`, and a note under it
 * (the change against the previous period, a request count). Loading and errors as everywhere.
 */
export function Figure<T>({
  label,
  testId,
  query,
  show,
}: {
  label: string;
  testId: string;
  query: UseQueryResult<T>;
  show: (data: T) => [value: string, note: string];
}) {
  return (
    <Paper withBorder p="md" radius="md">
      <Text size="sm" c="dimmed">
        {label}
      </Text>
      <QueryView query={query} label={`Loading ${label.toLowerCase()}…`}>
        {(data) => {
          const [value, note] = show(data);
          return (
            <>
              <Text fz={28} fw={700} data-testid={testId}>
                {value}
              </Text>
              <Text size="sm" c="dimmed">
                {note}
              </Text>
            </>
          );
        }}
      </QueryView>
    </Paper>
  );
}

export function SummaryFigures({ summary }: { summary: UseQueryResult<GovernanceSummary> }) {
  const figure = (label: string, testId: string, show: (data: GovernanceSummary) => [string, string]) => (
    <Figure label={label} testId={testId} query={summary} show={show} />
  );
  return (
    <SimpleGrid cols={{ base: 1, sm: 3 }}>
      {figure('Spend today', 'spend-today', ({ spend }) => [
        usd(spend.today.costUsd),
        comparison(spend.today.costUsd, spend.today.previousUsd, 'yesterday by this time'),
      ])}
      {figure('Spend this month', 'spend-month', ({ spend }) => [
        usd(spend.month.costUsd),
        comparison(spend.month.costUsd, spend.month.previousUsd, 'last month to this day'),
      ])}
      {figure('Active people', 'active-people', ({ people }) => [
        count(people.active),
        `in the last ${people.days} days, ${people.new} of them new`,
      ])}
    </SimpleGrid>
  );
}

export function TopSpenders({ summary }: { summary: UseQueryResult<GovernanceSummary> }) {
  return (
    <Section
      title="Top spenders this month"
      actions={
        <Anchor component={Link} to="/usage?groupBy=principal&period=month" size="sm">
          Explore usage
        </Anchor>
      }
    >
      <QueryView query={summary} label="Loading top spenders…">
        {(data) =>
          data.topSpenders.length === 0 ? (
            <EmptyState title="No spend this month">
              Calls through the gateway show up here within seconds.
            </EmptyState>
          ) : (
            <DataTable
              caption="People and service keys by cost since the start of the month"
              minWidth={620}
              head={['Who', 'Mostly', 'With', 'Requests', 'Cost']}
              rows={data.topSpenders.map((spender) => [
                <Group key="who" gap={6} wrap="nowrap">
                  <Text size="sm">{spender.label ?? spender.principalId}</Text>
                  {spender.kind === 'serviceKey' && (
                    <Badge size="xs" variant="outline" color="gray.7">
                      service key
                    </Badge>
                  )}
                </Group>,
                spender.topModel ?? '—',
                toolName(spender.topTool),
                count(spender.requests),
                usd(spender.costUsd),
              ])}
            />
          )
        }
      </QueryView>
    </Section>
  );
}

export function ProviderHealth({ summary }: { summary: UseQueryResult<GovernanceSummary> }) {
  const ms = (value: number | null) => (value === null ? '—' : `${count(Math.round(value))} ms`);
  return (
    <Section
      title="Provider health"
      actions={
        <Anchor component={Link} to="/providers" size="sm">
          Manage
        </Anchor>
      }
    >
      <QueryView query={summary} label="Loading provider health…">
        {(data) =>
          data.providers.length === 0 ? (
            <EmptyState title="No provider connected">Connect one on the providers page.</EmptyState>
          ) : (
            <DataTable
              caption={`Each provider over the last ${data.healthHours} hours`}
              minWidth={560}
              head={['Provider', 'Calls', 'Failed', 'Latency p50 / p95', 'State']}
              rows={data.providers.map((provider) => [
                `${provider.name} (${provider.type})`,
                count(provider.attempts),
                provider.errorRate === null
                  ? '—'
                  : `${count(provider.failures)} (${Math.round(provider.errorRate * 100)} %)`,
                `${ms(provider.p50LatencyMs)} / ${ms(provider.p95LatencyMs)}`,
                provider.circuit === 'open' ? (
                  <Badge key="state" color={DANGER}>
                    skipped{provider.retryInSeconds ? `, retried in ${provider.retryInSeconds} s` : ''}
                  </Badge>
                ) : (
                  <Badge key="state" color={GOOD}>
                    serving
                  </Badge>
                ),
              ])}
            />
          )
        }
      </QueryView>
    </Section>
  );
}

const overTimeGroupings = [
  { value: 'team', label: 'Team' },
  { value: 'principal', label: 'Person' },
  { value: 'model', label: 'Model' },
  { value: 'provider', label: 'Provider' },
];

/** This month's cost per day, stacked by the grouping chosen. */
export function SpendOverTime() {
  const { can } = useSignedIn();
  const [groupBy, setGroupBy] = useState('team');
  const { month } = periodStarts();
  const series = useAdmin<UsageSeries>(`/usage${query({ groupBy, from: month, interval: 'day' })}`);
  const nameOf = useNames({
    users: can('users:view'),
    teams: can('teams:view'),
    providers: can('providers:view'),
    keys: can('virtualKeys:view'),
  });
  const label = overTimeGroupings.find((option) => option.value === groupBy)?.label.toLowerCase();
  return (
    <Section
      title="Spend over time"
      actions={
        <SegmentedControl
          size="xs"
          aria-label="Group the spend by"
          data={overTimeGroupings}
          value={groupBy}
          onChange={setGroupBy}
        />
      }
    >
      <QueryView query={series} label="Loading spend over time…">
        {(data) =>
          data.rows.length === 0 ? (
            <EmptyState title="No spend this month">The chart fills in as people use the gateway.</EmptyState>
          ) : (
            <SeriesChart
              series={data}
              nameOf={(group) => (group === null && groupBy === 'team' ? 'No team' : nameOf(group))}
              title={`Cost per day by ${label}`}
            />
          )
        }
      </QueryView>
    </Section>
  );
}
