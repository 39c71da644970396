import { Button, Center, Paper, Stack, Text, Title } from '@mantine/core';
import { useLocation } from 'react-router';

/** What a visitor who is not signed in sees: one button to the organisation's single sign-on. */
export function SignInPage() {
  const location = useLocation();
  const returnTo = `${location.pathname}${location.search}`;
  const href = `/api/auth/sso/login?return_to=${encodeURIComponent(returnTo)}`;
  return (
    <Center mih="100vh" p="md" component="main">
      <Paper withBorder shadow="sm" p="xl" radius="md" maw={420} w="100%">
        <Stack>
          <Title order={1} size="h2">
            Gatehouse
          </Title>
          <Text>
            The gateway your AI coding tools go through. Sign in with your company account to see your keys,
            devices and spend.
          </Text>
          <Button component="a" href={href} size="md">
            Sign in with SSO
          </Button>
        </Stack>
      </Paper>
    </Center>
  );
}
