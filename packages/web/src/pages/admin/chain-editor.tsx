import { ActionIcon, Group, Paper, Select, Stack, Text, VisuallyHidden } from '@mantine/core';
import { IconArrowDown, IconArrowUp, IconGripVertical, IconX } from '@tabler/icons-react';
import { useRef, useState } from 'react';
import type { Provider } from '../../api';
import { DANGER } from '../../components';

/**
 * A routing policy's provider chain: the order calls try them in. Reordered by dragging a row
 * or, from the keyboard, with each row's move buttons; every move is announced. Native drag and
 * drop is enough for a list of a few rows, so no drag library is bundled for it.
 */
export function ChainEditor({
  providers,
  value,
  onChange,
  error,
}: {
  providers: Provider[];
  value: string[];
  onChange: (next: string[]) => void;
  error?: string;
}) {
  const [announcement, setAnnouncement] = useState('');
  const [dragged, setDragged] = useState<number>();
  const buttons = useRef(new Map<string, HTMLButtonElement>());
  const nameOf = (id: string) => providers.find((provider) => provider.id === id)?.name ?? id;

  const move = (from: number, to: number, focus?: 'up' | 'down') => {
    if (to < 0 || to >= value.length || from === to) return;
    const next = [...value];
    const [id] = next.splice(from, 1);
    if (id === undefined) return;
    next.splice(to, 0, id);
    onChange(next);
    setAnnouncement(`${nameOf(id)} moved to position ${to + 1} of ${next.length}`);
    // The moved row's own button keeps the focus, so pressing it again keeps moving the row; at
    // the end of the list, where that button is disabled, the focus goes to the other one.
    if (focus) {
      requestAnimationFrame(() => {
        const same = buttons.current.get(`${id}:${focus}`);
        const other = buttons.current.get(`${id}:${focus === 'up' ? 'down' : 'up'}`);
        (same && !same.disabled ? same : other)?.focus();
      });
    }
  };
  const unused = providers.filter((provider) => !value.includes(provider.id));

  return (
    <Stack gap="xs">
      <Text size="sm" fw={500} id="chain-label">
        Providers, in the order tried <span aria-hidden="true">*</span>
      </Text>
      <Text size="xs" c="dimmed">
        The first serves the call; the next is tried when one fails or does not serve the model. Drag a row,
        or use its arrows.
      </Text>
      {value.length > 0 && (
        <Stack component="ol" gap={4} aria-labelledby="chain-label" p={0} m={0} style={{ listStyle: 'none' }}>
          {value.map((id, index) => (
            <Paper
              component="li"
              key={id}
              withBorder
              p={6}
              draggable
              onDragStart={(event) => {
                setDragged(index);
                event.dataTransfer.effectAllowed = 'move';
                event.dataTransfer.setData('text/plain', id);
              }}
              onDragOver={(event) => event.preventDefault()}
              onDrop={(event) => {
                event.preventDefault();
                if (dragged !== undefined) move(dragged, index);
                setDragged(undefined);
              }}
              onDragEnd={() => setDragged(undefined)}
              data-testid={`chain-${nameOf(id)}`}
              style={{ cursor: 'grab', opacity: dragged === index ? 0.5 : 1 }}
            >
              <Group justify="space-between" wrap="nowrap" gap="xs">
                <Group gap="xs" wrap="nowrap">
                  <IconGripVertical size={16} aria-hidden="true" />
                  <Text size="sm">
                    {index + 1}. {nameOf(id)}
                  </Text>
                </Group>
                <Group gap={4} wrap="nowrap">
                  <ActionIcon
                    variant="default"
                    aria-label={`Move ${nameOf(id)} up`}
                    disabled={index === 0}
                    ref={(element) => {
                      if (element) buttons.current.set(`${id}:up`, element);
                    }}
                    onClick={() => move(index, index - 1, 'up')}
                  >
                    <IconArrowUp size={16} />
                  </ActionIcon>
                  <ActionIcon
                    variant="default"
                    aria-label={`Move ${nameOf(id)} down`}
                    disabled={index === value.length - 1}
                    ref={(element) => {
                      if (element) buttons.current.set(`${id}:down`, element);
                    }}
                    onClick={() => move(index, index + 1, 'down')}
                  >
                    <IconArrowDown size={16} />
                  </ActionIcon>
                  <ActionIcon
                    variant="default"
                    color={DANGER}
                    aria-label={`Remove ${nameOf(id)}`}
                    onClick={() => {
                      onChange(value.filter((other) => other !== id));
                      setAnnouncement(`${nameOf(id)} removed`);
                    }}
                  >
                    <IconX size={16} />
                  </ActionIcon>
                </Group>
              </Group>
            </Paper>
          ))}
        </Stack>
      )}
      <Select
        aria-label="Add a provider to the chain"
        placeholder={unused.length > 0 ? 'Add a provider…' : 'Every provider is in the chain'}
        disabled={unused.length === 0}
        data={unused.map((provider) => ({
          value: provider.id,
          label: `${provider.name} (${provider.type})`,
        }))}
        value={null}
        onChange={(id) => {
          if (!id) return;
          onChange([...value, id]);
          setAnnouncement(`${nameOf(id)} added at position ${value.length + 1}`);
        }}
        error={error}
      />
      {/* No role="status": that marks the app's loading states, which the tests wait out. */}
      <VisuallyHidden aria-live="polite">{announcement}</VisuallyHidden>
    </Stack>
  );
}
