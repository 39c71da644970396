import {
  ActionIcon,
  Badge,
  Code,
  CopyButton,
  Group,
  Paper,
  Progress,
  Stack,
  Table,
  Text,
  Title,
  Tooltip,
} from '@mantine/core';
import { IconCheck, IconCopy } from '@tabler/icons-react';
import type { ReactNode } from 'react';
import { usd } from './format';

/** Colours dark enough for white text at WCAG AA (axe checks every page). */
export const DANGER = 'red.9';
export const GOOD = 'teal.9';

/** A titled block of a page. */
export function Section({
  title,
  actions,
  children,
}: {
  title: string;
  actions?: ReactNode;
  children: ReactNode;
}) {
  return (
    <Paper withBorder p="md" radius="md" component="section" aria-label={title}>
      <Stack gap="sm">
        <Group justify="space-between" wrap="wrap">
          <Title order={2} size="h4">
            {title}
          </Title>
          {actions}
        </Group>
        {children}
      </Stack>
    </Paper>
  );
}

export function PageTitle({ children, description }: { children: ReactNode; description?: ReactNode }) {
  return (
    <Stack gap={4} mb="md">
      <Title order={1} size="h2">
        {children}
      </Title>
      {description && <Text c="dimmed">{description}</Text>}
    </Stack>
  );
}

/** Text with a copy button beside it (commands, keys, URLs). */
export function Copyable({ value, label }: { value: string; label: string }) {
  return (
    <Group gap="xs" wrap="nowrap" align="center">
      <Code style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-all', flex: 1, minWidth: 0 }} py={6}>
        {value}
      </Code>
      <CopyButton value={value} timeout={1500}>
        {({ copied, copy }) => (
          <Tooltip label={copied ? 'Copied' : 'Copy'} withArrow>
            <ActionIcon
              variant="light"
              onClick={copy}
              aria-label={copied ? `${label} copied` : `Copy ${label}`}
              color={copied ? 'teal' : undefined}
            >
              {copied ? <IconCheck size={16} aria-hidden /> : <IconCopy size={16} aria-hidden />}
            </ActionIcon>
          </Tooltip>
        )}
      </CopyButton>
    </Group>
  );
}

/** A table of rows (Mantine's data table), scrolling sideways on narrow screens. */
export function DataTable({
  caption,
  head,
  rows,
  minWidth = 560,
}: {
  caption: string;
  head: ReactNode[];
  rows: ReactNode[][];
  minWidth?: number;
}) {
  return (
    // Scrolls sideways on a phone; focusable, so the keyboard can scroll it too.
    <Table.ScrollContainer minWidth={minWidth} type="native" tabIndex={0}>
      <Table
        striped
        highlightOnHover
        verticalSpacing="xs"
        captionSide="top"
        data={{ caption, head, body: rows }}
        styles={{ caption: { textAlign: 'left', marginBottom: 4 } }}
      />
    </Table.ScrollContainer>
  );
}

/** Spent against a limit, with the colour saying how close it is. */
export function BudgetBar({
  spentUsd,
  limitUsd,
  label,
}: {
  spentUsd: number;
  limitUsd: number;
  label: string;
}) {
  const share = limitUsd > 0 ? Math.min(100, (spentUsd / limitUsd) * 100) : 100;
  const color = share >= 100 ? 'red' : share >= 80 ? 'orange' : 'teal';
  return (
    <Stack gap={2} miw={140}>
      <Progress
        value={share}
        color={color}
        aria-label={`${label}: ${Math.round(share)} % of the limit spent`}
      />
      <Text size="xs" c="dimmed">
        {usd(spentUsd)} of {usd(limitUsd)}
      </Text>
    </Stack>
  );
}

export function StatusBadge({
  revokedAt,
  expiresAt,
}: {
  revokedAt: string | null;
  expiresAt?: string | null;
}) {
  if (revokedAt) return <Badge color="gray.7">revoked</Badge>;
  if (expiresAt && new Date(expiresAt) <= new Date()) return <Badge color="gray.7">expired</Badge>;
  return <Badge color="teal.9">active</Badge>;
}
