import '@mantine/core/styles.css';
import '@mantine/charts/styles.css';
import { type CSSVariablesResolver, createTheme, MantineProvider, Modal } from '@mantine/core';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { setNonce } from 'get-nonce';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router';
import { App } from './App';
import { ApiError } from './api';

// The server puts a fresh nonce here on every page load; its CSP allows only styles carrying it.
const nonce = document.querySelector<HTMLMetaElement>('meta[name="csp-nonce"]')?.content;
// Modals lock scrolling with a style element of their own (react-remove-scroll), which reads it here.
if (nonce) setNonce(nonce);

// Shades chosen for WCAG AA contrast: white on the primary colour, dimmed text on either scheme.
const theme = createTheme({
  primaryColor: 'indigo',
  primaryShade: { light: 8, dark: 8 },
  defaultRadius: 'md',
  // Who asked their system for less motion gets no transitions.
  respectReducedMotion: true,
  components: {
    // A dialog's close button says what it does to a screen reader.
    Modal: Modal.extend({ defaultProps: { closeButtonProps: { 'aria-label': 'Close dialog' } } }),
  },
});
const contrast: CSSVariablesResolver = (current) => ({
  variables: {},
  // A field's error text too: Mantine's red is too light on white for small text.
  light: {
    '--mantine-color-dimmed': current.colors.gray[7] ?? '#495057',
    '--mantine-color-error': current.colors.red[9] ?? '#c92a2a',
  },
  dark: { '--mantine-color-dimmed': current.colors.dark[1] ?? '#b8b8b8' },
});

const client = new QueryClient({
  defaultOptions: {
    queries: {
      // A refusal (401, 403, 404) will not change by asking again.
      retry: (failures, error) => !(error instanceof ApiError && error.status < 500) && failures < 2,
      refetchOnWindowFocus: false,
    },
  },
});

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root');
createRoot(root).render(
  <StrictMode>
    <MantineProvider
      theme={theme}
      defaultColorScheme="auto"
      cssVariablesResolver={contrast}
      getStyleNonce={() => nonce ?? ''}
    >
      <QueryClientProvider client={client}>
        <BrowserRouter>
          <App />
        </BrowserRouter>
      </QueryClientProvider>
    </MantineProvider>
  </StrictMode>,
);
