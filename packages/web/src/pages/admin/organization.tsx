import {
  Badge,
  Group,
  SegmentedControl,
  Select,
  SimpleGrid,
  Stack,
  Switch,
  TagsInput,
  Text,
  TextInput,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { zod4Resolver } from 'mantine-form-zod-resolver';
import { useState } from 'react';
import { useAdmin } from '../../admin-data';
import type { FeatureFlag, Organization } from '../../api';
import { GOOD, PageTitle, Section } from '../../components';
import { type OrganizationForm, organizationBody, organizationForm, personalKeyLifetimes } from '../../forms';
import { useSignedIn } from '../../session';
import { ErrorState, QueryView } from '../../states';
import { FormFooter, useChange } from './common';

/**
 * What each release flag shows, in the words of the navigation. A `Record` over the names: a flag
 * the server adds (the type test keeps the names the server's) is a compile error until described.
 */
const flagLabels: Record<FeatureFlag, { label: string; description: string }> = {
  release_ui_ai_gateway_menu_enabled: {
    label: 'AI-gateway menu',
    description: 'Providers, routing policies, budgets, rate limits, virtual keys and their projects',
  },
  release_ui_ai_governance_enabled: {
    label: 'Governance pages',
    description: 'Governance and Spend, and the governance summary API',
  },
};

/** The organisation's settings and its release flags. */
export function OrganizationPage() {
  const organization = useAdmin<Organization>('/organization');
  return (
    <Stack>
      <PageTitle description="How the organisation is named, who joins it on sign-in, and which parts of Gatehouse it shows.">
        Organisation
      </PageTitle>
      <QueryView query={organization} label="Loading the organisation…">
        {(current) => (
          <>
            <Settings organization={current} />
            <ReleaseFlags organization={current} />
          </>
        )}
      </QueryView>
    </Stack>
  );
}

function Settings({ organization }: { organization: Organization }) {
  const { can, reload } = useSignedIn();
  const manage = can('organization:manage');
  const [saved, setSaved] = useState(false);
  const form = useForm<OrganizationForm>({
    initialValues: {
      name: organization.name,
      timeZone: organization.timeZone,
      emailDomains: organization.emailDomains,
      personalKeyTtlSeconds: String(organization.personalKeyTtlSeconds),
      storageOutageMode: organization.storageOutageMode,
    },
    validate: zod4Resolver(organizationForm),
  });
  const save = useChange((values: OrganizationForm) => [
    '/organization',
    { method: 'PATCH', body: organizationBody(values) },
  ]);
  const lifetime = String(organization.personalKeyTtlSeconds);
  // A lifetime set through the API may be none of the choices; it stays choosable.
  const lifetimes = personalKeyLifetimes.some((choice) => choice.value === lifetime)
    ? personalKeyLifetimes
    : [...personalKeyLifetimes, { value: lifetime, label: `${organization.personalKeyTtlSeconds} seconds` }];
  return (
    <Section title="Settings">
      <form
        onSubmit={form.onSubmit((values) =>
          save.mutate(values, {
            onSuccess: async () => {
              setSaved(true);
              // The organisation's name shows in the header and the organisation switcher.
              if (values.name !== organization.name) await reload();
            },
          }),
        )}
        onChange={() => setSaved(false)}
        noValidate
      >
        <Stack>
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <TextInput label="Name" required disabled={!manage} {...form.getInputProps('name')} />
            <Select
              label="Time zone"
              required
              searchable
              allowDeselect={false}
              disabled={!manage}
              description="Day, week and month budgets reset at midnight here"
              data={timeZones(organization.timeZone)}
              {...form.getInputProps('timeZone')}
            />
          </SimpleGrid>
          <TagsInput
            label="Sign-in email domains"
            description="People whose email is at one of these join on first sign-in; none: anyone your identity provider vouches for. Press Enter after each."
            placeholder={manage ? 'example.com' : undefined}
            disabled={!manage}
            {...form.getInputProps('emailDomains')}
          />
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <Select
              label="Personal key lifetime"
              description="How long a key from gatehouse login lasts before the CLI renews it"
              allowDeselect={false}
              disabled={!manage}
              data={lifetimes}
              {...form.getInputProps('personalKeyTtlSeconds')}
            />
            <Stack gap={4}>
              <Text size="sm" fw={500} id="storage-outage-mode">
                While the database or Redis is unreachable
              </Text>
              <SegmentedControl
                aria-labelledby="storage-outage-mode"
                disabled={!manage}
                data={[
                  { value: 'closed', label: 'Refuse budgeted calls' },
                  { value: 'open', label: 'Serve without checks' },
                ]}
                {...form.getInputProps('storageOutageMode')}
              />
            </Stack>
          </SimpleGrid>
          {saved && (
            <Text size="sm" aria-live="polite">
              Saved.
            </Text>
          )}
          {manage && <FormFooter error={save.error} pending={save.isPending} label="Save settings" />}
        </Stack>
      </form>
    </Section>
  );
}

/** The browser's IANA zones, with the stored one kept even if this browser does not list it. */
function timeZones(current: string): string[] {
  const zones = Intl.supportedValuesOf('timeZone');
  return zones.includes(current) ? zones : [current, ...zones];
}

/** One switch per release flag; owners (featureFlags:manage) flip them, everyone else reads them. */
function ReleaseFlags({ organization }: { organization: Organization }) {
  const { can, reload } = useSignedIn();
  const manage = can('featureFlags:manage');
  const change = useChange((flags: Partial<Record<FeatureFlag, boolean>>) => [
    '/organization',
    { method: 'PATCH', body: { featureFlags: flags } },
  ]);
  const names = Object.keys(flagLabels) as FeatureFlag[];
  return (
    <Section title="Release flags">
      <Text size="sm" c="dimmed">
        A flag that is off hides its pages from everyone in the organisation and switches their API off.
      </Text>
      {change.isError && <ErrorState error={change.error} />}
      <Stack gap="md">
        {names.map((name) => {
          const state = organization.featureFlags[name];
          return (
            <Switch
              key={name}
              label={
                // Spelled out: a disabled switch's greyed colour alone does not say on or off.
                <Group gap="xs" component="span">
                  {flagLabels[name].label}
                  <Badge size="sm" color={state.enabled ? GOOD : 'gray.7'}>
                    {state.enabled ? 'on' : 'off'}
                  </Badge>
                </Group>
              }
              description={
                state.forced
                  ? `${flagLabels[name].description} (forced on for this deployment)`
                  : flagLabels[name].description
              }
              checked={state.enabled}
              disabled={!manage || state.forced || change.isPending}
              // The navigation reads the flags from /api/me: read everything again so it follows.
              onChange={(event) =>
                change.mutate({ [name]: event.currentTarget.checked }, { onSuccess: () => reload() })
              }
            />
          );
        })}
      </Stack>
      {!manage && (
        <Text size="sm" c="dimmed">
          Only owners (featureFlags:manage) can switch release flags.
        </Text>
      )}
    </Section>
  );
}
