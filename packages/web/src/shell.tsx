import { AppShell, Burger, Button, Group, NavLink, Select, Stack, Text, Title } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { useMutation } from '@tanstack/react-query';
import { type ReactNode, useState } from 'react';
import { NavLink as RouterLink, useLocation } from 'react-router';
import { api, type FeatureFlag, type Landing } from './api';
import { landingPaths, landingPreference, type SignedIn, setLandingPreference, useSignedIn } from './session';

interface Destination {
  path: string;
  label: string;
  /** Shown when the person holds any of these over the organisation; none: everyone. */
  anyOf?: string[];
  /** The release flag the page ships behind: while it is off the page is hidden (its API 404s). */
  flag?: FeatureFlag;
  /**
   * A grant over a team or project opens it too: its API answers with what is in the caller's
   * scope (budgets and keys; the other pages' APIs are organisation-wide).
   */
  scoped?: boolean;
}

const GATEWAY_MENU: FeatureFlag = 'release_ui_ai_gateway_menu_enabled';
const GOVERNANCE: FeatureFlag = 'release_ui_ai_governance_enabled';

/** Every page, and who sees it in the navigation (the server checks again on every call). */
export const destinations: Destination[] = [
  { path: '/me', label: 'My access' },
  {
    path: '/governance',
    label: 'Governance',
    anyOf: ['governance:view', 'providers:manage'],
    flag: GOVERNANCE,
  },
  { path: '/spend', label: 'Spend', anyOf: ['usage:view'], flag: GOVERNANCE },
  { path: '/usage', label: 'Usage' },
  { path: '/providers', label: 'Providers', anyOf: ['providers:view'], flag: GATEWAY_MENU },
  { path: '/routing', label: 'Routing policies', anyOf: ['routingPolicies:view'], flag: GATEWAY_MENU },
  { path: '/budgets', label: 'Budgets', anyOf: ['budgets:view'], flag: GATEWAY_MENU, scoped: true },
  { path: '/rate-limits', label: 'Rate limits', anyOf: ['rateLimits:view'], flag: GATEWAY_MENU },
  { path: '/keys', label: 'Virtual keys', anyOf: ['virtualKeys:view'], flag: GATEWAY_MENU, scoped: true },
  { path: '/people', label: 'Users and teams', anyOf: ['users:view', 'teams:view'] },
  { path: '/roles', label: 'Roles and bindings', anyOf: ['roles:manage'] },
  { path: '/tokens', label: 'Admin tokens', anyOf: ['adminTokens:manage'] },
  { path: '/audit', label: 'Audit log', anyOf: ['auditLog:view'] },
  { path: '/identity', label: 'SSO and SCIM', anyOf: ['sso:manage'] },
  { path: '/organization', label: 'Organisation', anyOf: ['organization:view'] },
];

export function visibleDestinations(signedIn: Pick<SignedIn, 'can' | 'holds' | 'me'>): Destination[] {
  const opens = (item: Destination, permission: string) =>
    signedIn.can(permission) || (item.scoped === true && signedIn.holds(permission));
  return destinations.filter(
    (item) =>
      (!item.flag || signedIn.me.featureFlags[item.flag] !== false) &&
      (!item.anyOf || item.anyOf.some((permission) => opens(item, permission))),
  );
}

const landingChoices: { value: Landing | 'default'; label: string }[] = [
  { value: 'default', label: 'Chosen for my role' },
  { value: 'me', label: 'My access' },
  { value: 'governance', label: 'Governance' },
  { value: 'spend', label: 'Spend' },
  { value: 'usage', label: 'Usage' },
];

export function Shell({ children }: { children: ReactNode }) {
  const signedIn = useSignedIn();
  const [opened, { toggle, close }] = useDisclosure();
  const location = useLocation();
  return (
    <AppShell
      header={{ height: 56 }}
      navbar={{ width: 240, breakpoint: 'sm', collapsed: { mobile: !opened } }}
      padding="md"
    >
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Navigation" />
            <Title order={2} size="h4">
              Gatehouse
            </Title>
          </Group>
          <Group gap="sm" wrap="nowrap">
            <OrganizationSwitcher />
            <Text size="sm" c="dimmed" visibleFrom="sm" data-testid="signed-in-as">
              {signedIn.me.user.email}
            </Text>
            <SignOut />
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label="Main">
        <Stack gap={2} component="nav">
          {visibleDestinations(signedIn).map((item) => (
            <NavLink
              key={item.path}
              component={RouterLink}
              to={item.path}
              label={item.label}
              active={location.pathname === item.path}
              onClick={close}
            />
          ))}
        </Stack>
        <LandingChoice />
      </AppShell.Navbar>
      <AppShell.Main>{children}</AppShell.Main>
    </AppShell>
  );
}

function OrganizationSwitcher() {
  const { me, reload } = useSignedIn();
  const switchTo = useMutation({
    mutationFn: (organizationId: string) =>
      api('/api/me/organization', { method: 'POST', body: { organizationId } }),
    onSuccess: reload,
  });
  if (me.organizations.length <= 1) return null;
  const current = me.organizations.find((organization) => organization.current);
  return (
    <Select
      aria-label="Organisation"
      size="xs"
      w={180}
      allowDeselect={false}
      data={me.organizations.map((organization) => ({ value: organization.id, label: organization.name }))}
      value={current?.id ?? me.organization.id}
      onChange={(value) => value && value !== current?.id && switchTo.mutate(value)}
      disabled={switchTo.isPending}
      error={switchTo.isError ? switchTo.error.message : undefined}
    />
  );
}

function SignOut() {
  const signOut = useMutation({
    mutationFn: () => api('/api/auth/logout', { method: 'POST' }),
    onSettled: () => window.location.assign('/'),
  });
  return (
    <Button size="xs" variant="default" onClick={() => signOut.mutate()} loading={signOut.isPending}>
      Sign out
    </Button>
  );
}

function LandingChoice() {
  const signedIn = useSignedIn();
  const [choice, setChoice] = useState<string>(landingPreference() ?? 'default');
  // Only pages the person can open are offered as their home.
  const open = new Set(visibleDestinations(signedIn).map((item) => item.path));
  const choices = landingChoices.filter(
    (option) => option.value === 'default' || open.has(landingPaths[option.value]),
  );
  return (
    <Select
      mt="md"
      size="xs"
      label="Home page"
      allowDeselect={false}
      data={choices}
      value={choice}
      onChange={(value) => {
        const next = value ?? 'default';
        setChoice(next);
        setLandingPreference(next === 'default' ? undefined : (next as Landing));
      }}
    />
  );
}
