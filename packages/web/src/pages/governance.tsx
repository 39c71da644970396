import { BarChart } from '@mantine/charts';
import { Anchor, List, SimpleGrid, Stack, Text, ThemeIcon } from '@mantine/core';
import { IconCheck, IconMinus } from '@tabler/icons-react';
import { Link } from 'react-router';
import { useAdmin, useNames } from '../admin-data';
import {
  type Budget,
  type List as ListOf,
  type Provider,
  query,
  type RoutingPolicy,
  type ScimToken,
  type SsoSettings,
  type UsageReport,
  type UsageRow,
  type VirtualKey,
} from '../api';
import { BudgetBar, DataTable, GOOD, PageTitle, Section } from '../components';
import { count, periodStarts, plural, usd } from '../format';
import { useSignedIn } from '../session';
import { EmptyState, QueryView } from '../states';
import {
  Figure,
  ProviderHealth,
  SpendOverTime,
  SummaryFigures,
  TopSpenders,
  useGovernanceSummary,
} from './governance-summary';

/**
 * The organisation at a glance: what it spends today and this month, who and what spends it,
 * budgets close to their limit, the providers, and what is left to set up. `spend` is the same
 * page for whoever pays (usage and budgets, no providers or setup).
 */
export function GovernancePage({ mode }: { mode: 'governance' | 'spend' }) {
  const { can } = useSignedIn();
  const seesUsage = can('usage:view');
  // The summary is the governance home's; whoever only pays reads the same figures from usage.
  const summarised = mode === 'governance' && can('governance:view');
  const summary = useGovernanceSummary(summarised);
  return (
    <Stack>
      <PageTitle description={mode === 'spend' ? 'Spend and budgets across the organisation.' : undefined}>
        {mode === 'spend' ? 'Spend' : 'Governance'}
      </PageTitle>
      {summarised ? <SummaryFigures summary={summary} /> : seesUsage && <SpendSummary />}
      {seesUsage && <SpendOverTime />}
      {summarised ? <TopSpenders summary={summary} /> : seesUsage && <PrincipalSpend />}
      {seesUsage && <SpendBreakdown />}
      {can('budgets:view') && <BudgetsNearLimit />}
      {mode === 'governance' && (
        // Health needs its table's width; the plain provider list fits beside the anomalies.
        <SimpleGrid cols={{ base: 1, lg: summarised ? 1 : 2 }}>
          {summarised ? <ProviderHealth summary={summary} /> : can('providers:view') && <Providers />}
          <Section title="Open anomalies">
            <EmptyState title="No open anomalies">
              Unusual spend or traffic will be listed here once anomaly rules are set.
            </EmptyState>
          </Section>
        </SimpleGrid>
      )}
      {mode === 'governance' && <SetupChecklist />}
    </Stack>
  );
}

function total(rows: UsageRow[]): { costUsd: number; requests: number } {
  return rows.reduce(
    (sum, row) => ({ costUsd: sum.costUsd + row.costUsd, requests: sum.requests + row.requests }),
    { costUsd: 0, requests: 0 },
  );
}

function SpendSummary() {
  const { today, month } = periodStarts();
  const todays = useAdmin<UsageReport>(`/usage${query({ groupBy: 'model', from: today })}`);
  const months = useAdmin<UsageReport>(`/usage${query({ groupBy: 'model', from: month })}`);
  const figure = (label: string, testId: string, report: typeof todays) => (
    <Figure
      label={label}
      testId={testId}
      query={report}
      show={(data) => {
        const sum = total(data.rows);
        return [usd(sum.costUsd), plural(sum.requests, 'request')];
      }}
    />
  );
  return (
    <SimpleGrid cols={{ base: 1, sm: 2 }}>
      {figure('Spend today', 'spend-today', todays)}
      {figure('Spend this month', 'spend-month', months)}
    </SimpleGrid>
  );
}

function SpendBreakdown() {
  const { can } = useSignedIn();
  const { month } = periodStarts();
  const nameOf = useNames({
    users: can('users:view'),
    teams: can('teams:view'),
    providers: can('providers:view'),
    keys: can('virtualKeys:view'),
  });
  const by = (groupBy: string) => `/usage${query({ groupBy, from: month })}`;
  const models = useAdmin<UsageReport>(by('model'));
  const providers = useAdmin<UsageReport>(by('provider'));
  const teams = useAdmin<UsageReport>(by('team'));
  const chart = (title: string, report: typeof models) => (
    <Section title={title}>
      <QueryView query={report} label="Loading spend…">
        {(data) =>
          data.rows.length === 0 ? (
            <EmptyState title="No spend this month" />
          ) : (
            <BarChart
              h={200}
              role="img"
              aria-label={`${title}: ${data.rows.map((row) => `${nameOf(row.group)} ${usd(row.costUsd)}`).join(', ')}`}
              data={[...data.rows]
                .sort((a, b) => b.costUsd - a.costUsd)
                .slice(0, 8)
                .map((row) => ({ name: nameOf(row.group), cost: row.costUsd }))}
              dataKey="name"
              series={[{ name: 'cost', label: 'Cost (USD)', color: 'indigo.8' }]}
              valueFormatter={usd}
              tickLine="none"
            />
          )
        }
      </QueryView>
    </Section>
  );
  return (
    <SimpleGrid cols={{ base: 1, lg: 3 }}>
      {chart('By model', models)}
      {chart('By provider', providers)}
      {chart('By team', teams)}
    </SimpleGrid>
  );
}

/** Who spent what this month, from usage: the spend page's table (the summary's needs governance). */
function PrincipalSpend() {
  const { can } = useSignedIn();
  const { month } = periodStarts();
  const nameOf = useNames({
    users: can('users:view'),
    teams: can('teams:view'),
    providers: false,
    keys: can('virtualKeys:view'),
  });
  const principals = useAdmin<UsageReport>(`/usage${query({ groupBy: 'principal', from: month })}`);
  return (
    <Section title="Top spenders this month">
      <QueryView query={principals} label="Loading top spenders…">
        {(data) =>
          data.rows.length === 0 ? (
            <EmptyState title="No spend this month">
              Calls through the gateway show up here within seconds.
            </EmptyState>
          ) : (
            <DataTable
              caption="People and service keys by cost since the start of the month"
              minWidth={480}
              head={['Who', 'Requests', 'Refused', 'Cost']}
              rows={[...data.rows]
                .sort((a, b) => b.costUsd - a.costUsd)
                .slice(0, 10)
                .map((row) => [nameOf(row.group), count(row.requests), count(row.refused), usd(row.costUsd)])}
            />
          )
        }
      </QueryView>
    </Section>
  );
}

function BudgetsNearLimit() {
  const budgets = useAdmin<ListOf<Budget>>('/budgets');
  return (
    <Section
      title="Budgets near or over their limit"
      actions={
        <Anchor component={Link} to="/budgets" size="sm">
          All budgets
        </Anchor>
      }
    >
      <QueryView query={budgets} label="Loading budgets…">
        {({ data }) => {
          const close = data.filter(
            (budget) => budget.spentUsd + budget.reservedUsd >= budget.limitUsd * 0.8,
          );
          if (data.length === 0)
            return <EmptyState title="No budgets yet">Set one on the budgets page.</EmptyState>;
          if (close.length === 0) return <EmptyState title="Every budget is under 80 % of its limit" />;
          return (
            <DataTable
              caption="Budgets at 80 % of their limit or more"
              minWidth={480}
              head={['Budget', 'Applies to', 'Window', 'Spent']}
              rows={close.map((budget) => [
                budget.name ?? `${budget.scope} budget`,
                `${budget.scope} ${budget.scopeId}`,
                `${budget.window}, ${budget.action}`,
                <BudgetBar
                  key="bar"
                  spentUsd={budget.spentUsd}
                  limitUsd={budget.limitUsd}
                  label={budget.name ?? budget.scope}
                />,
              ])}
            />
          );
        }}
      </QueryView>
    </Section>
  );
}

function Providers() {
  const providers = useAdmin<ListOf<Provider>>('/providers');
  return (
    <Section
      title="Providers"
      actions={
        <Anchor component={Link} to="/providers" size="sm">
          Manage
        </Anchor>
      }
    >
      <QueryView query={providers} label="Loading providers…">
        {({ data }) =>
          data.length === 0 ? (
            <EmptyState title="No provider connected">Connect one on the providers page.</EmptyState>
          ) : (
            <DataTable
              caption="Provider credentials of the organisation"
              minWidth={360}
              head={['Name', 'Type', 'Models']}
              rows={data.map((provider) => [
                provider.name,
                provider.type,
                provider.models?.join(', ') ?? 'its vendor’s',
              ])}
            />
          )
        }
      </QueryView>
    </Section>
  );
}

/** What a new organisation still has to do; each step is read from the admin API where the person may. */
function SetupChecklist() {
  const { can } = useSignedIn();
  const providers = useAdmin<ListOf<Provider>>('/providers', can('providers:view'));
  const policies = useAdmin<ListOf<RoutingPolicy>>('/routing-policies', can('routingPolicies:view'));
  const sso = useAdmin<SsoSettings>('/sso', can('sso:manage'));
  const scim = useAdmin<ListOf<ScimToken>>('/scim-tokens', can('sso:manage'));
  const keys = useAdmin<ListOf<VirtualKey>>('/virtual-keys', can('virtualKeys:view'));
  const steps: { label: string; done: boolean | undefined; to: string }[] = [
    { label: 'Connect a provider', done: providers.data && providers.data.data.length > 0, to: '/providers' },
    {
      label: 'Publish a default routing policy',
      done: policies.data?.data.some((policy) => policy.isDefault),
      to: '/routing',
    },
    {
      label: 'Set up single sign-on',
      done: sso.data && Boolean(sso.data.oidc || sso.data.saml),
      to: '/identity',
    },
    {
      label: 'Create a SCIM token for provisioning',
      done: scim.data?.data.some((token) => !token.revokedAt),
      to: '/identity',
    },
    {
      label: 'First personal key (someone ran gatehouse login)',
      done: keys.data?.data.some((key) => key.kind === 'personal'),
      to: '/keys',
    },
  ];
  return (
    <Section title="Setup checklist">
      <List spacing="xs" center aria-label="Setup steps">
        {steps.map((step) => (
          <List.Item
            key={step.label}
            icon={
              <ThemeIcon size={22} radius="xl" color={step.done ? GOOD : 'gray.7'} aria-hidden>
                {step.done ? <IconCheck size={14} /> : <IconMinus size={14} />}
              </ThemeIcon>
            }
          >
            <Text size="sm" span>
              {step.done === false ? (
                <Anchor component={Link} to={step.to} inherit>
                  {step.label}
                </Anchor>
              ) : (
                step.label
              )}
              : {step.done === undefined ? 'not visible to your role' : step.done ? 'done' : 'to do'}
            </Text>
          </List.Item>
        ))}
      </List>
    </Section>
  );
}
