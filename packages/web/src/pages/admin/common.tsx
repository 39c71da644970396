import { Alert, Button, Group, Modal, Stack, Text } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type ReactNode, useState } from 'react';
import { api, type CallOptions } from '../../api';
import { Copyable, DANGER } from '../../components';
import { ErrorState } from '../../states';

/** The building blocks every policy page shares: a change that refreshes the lists, create and delete dialogs, a secret shown once. */

/** A call to the admin API that changes something; on success every admin list is read again. */
export function useChange<TInput, TResult = unknown>(request: (input: TInput) => [string, CallOptions]) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (input: TInput) => {
      const [path, options] = request(input);
      return api<TResult>(`/api/admin${path}`, options);
    },
    onSuccess: () => client.invalidateQueries({ queryKey: ['admin'] }),
  });
}

/** A button that opens a dialog holding a form; the form gets `close` for when it is done. */
export function CreateDialog({
  label,
  title,
  children,
}: {
  label: string;
  title: string;
  children: (close: () => void) => ReactNode;
}) {
  const [opened, { open, close }] = useDisclosure(false);
  return (
    <>
      <Button size="sm" onClick={open}>
        {label}
      </Button>
      <Modal opened={opened} onClose={close} title={title} size="lg">
        {opened && children(close)}
      </Modal>
    </>
  );
}

/** A row's edit button ("Edit <what>") opening a dialog that holds the edit form. */
export function EditDialog({
  label,
  what,
  title,
  children,
}: {
  /** e.g. "Edit", "Rename" */
  label: string;
  what: string;
  title: string;
  children: (close: () => void) => ReactNode;
}) {
  const [opened, { open, close }] = useDisclosure(false);
  return (
    <>
      <Button size="xs" variant="outline" onClick={open}>
        {label} {what}
      </Button>
      <Modal opened={opened} onClose={close} title={title} size="lg">
        {opened && children(close)}
      </Modal>
    </>
  );
}

/** Delete (or revoke) with a confirmation: the button names what it removes. */
export function DeleteButton({
  label,
  what,
  consequence,
  request,
}: {
  /** e.g. "Delete", "Revoke" */
  label: string;
  what: string;
  consequence: string;
  request: [string, CallOptions];
}) {
  const [opened, { open, close }] = useDisclosure(false);
  const change = useChange<void>(() => request);
  return (
    <>
      <Button size="xs" variant="outline" color={DANGER} onClick={open}>
        {label} {what}
      </Button>
      <Modal opened={opened} onClose={close} title={`${label} ${what}?`}>
        <Stack>
          <Text size="sm">{consequence}</Text>
          {change.isError && <ErrorState error={change.error} />}
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              Cancel
            </Button>
            <Button
              color={DANGER}
              loading={change.isPending}
              onClick={() => change.mutate(undefined, { onSuccess: close })}
            >
              {label}
            </Button>
          </Group>
        </Stack>
      </Modal>
    </>
  );
}

/** A new key or token, shown this once with a copy button; the server keeps only its hash. */
export function ShownOnce({ secret, label, onDone }: { secret: string; label: string; onDone: () => void }) {
  return (
    <Stack>
      <Alert color="indigo" title="Copy it now">
        This is the only time the {label} is shown: Gatehouse keeps only a keyed hash of it.
      </Alert>
      <Copyable value={secret} label={label} />
      <Group justify="flex-end">
        <Button onClick={onDone}>Done</Button>
      </Group>
    </Stack>
  );
}

/** The submit row of a create form, with the API's refusal when there is one. */
export function FormFooter({ error, pending, label }: { error: unknown; pending: boolean; label: string }) {
  return (
    <Stack gap="sm">
      {error ? <ErrorState error={error} /> : null}
      <Group justify="flex-end">
        <Button type="submit" loading={pending}>
          {label}
        </Button>
      </Group>
    </Stack>
  );
}

/** Keeps the secret from a create answer until the person dismisses it. */
export function useShownOnce() {
  return useState<string | undefined>(undefined);
}
