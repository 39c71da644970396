import { useQuery, useQueryClient } from '@tanstack/react-query';
import { createContext, type ReactNode, useContext, useMemo } from 'react';
import { ApiError, api, type Landing, type Me, type Session, setCsrfToken } from './api';
import { ErrorState, LoadingState } from './states';

/**
 * Who is signed in: the SSO session (`/api/auth/session`, which also gives the CSRF token) and
 * what they may do (`/api/me`). Everything below reads it through `useSignedIn`.
 */
export interface SignedIn {
  session: Session;
  me: Me;
  /** Whether the person holds the permission over the whole organisation. */
  can(permission: string): boolean;
  /**
   * Whether they hold it anywhere: over the organisation or over a team or project of it (a team
   * lead's budgets). Pages whose API answers with what is in the caller's scope open with it.
   */
  holds(permission: string): boolean;
  /** After switching organisation or signing out: read everything again. */
  reload(): Promise<void>;
}

const SignedInContext = createContext<SignedIn | undefined>(undefined);

export function useSignedIn(): SignedIn {
  const value = useContext(SignedInContext);
  if (!value) throw new Error('useSignedIn outside the signed-in part of the app');
  return value;
}

async function readSession(): Promise<Session | null> {
  try {
    const session = await api<Session>('/api/auth/session');
    setCsrfToken(session.csrfToken);
    return session;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return null;
    throw error;
  }
}

export function SessionGate({ signedOut, children }: { signedOut: ReactNode; children: ReactNode }) {
  const client = useQueryClient();
  const session = useQuery({ queryKey: ['session'], queryFn: readSession, staleTime: 60_000 });
  // Asked for beside the session, not after it: signed out, its 401 is never shown (the
  // session's answer decides), and signed in it saves a round trip before the first page.
  const me = useQuery({
    queryKey: ['me'],
    queryFn: () => api<Me>('/api/me'),
    enabled: session.data !== null,
    staleTime: 30_000,
  });
  const value = useMemo<SignedIn | undefined>(() => {
    if (!session.data || !me.data) return undefined;
    const permissions = new Set(me.data.permissions);
    const anywhere = new Set([...permissions, ...me.data.grants.flatMap((grant) => grant.permissions)]);
    return {
      session: session.data,
      me: me.data,
      can: (permission) => permissions.has(permission),
      holds: (permission) => anywhere.has(permission),
      reload: async () => {
        await client.resetQueries();
      },
    };
  }, [session.data, me.data, client]);

  if (session.isPending) return <LoadingState label="Checking your sign-in…" />;
  if (session.isError) return <ErrorState error={session.error} onRetry={() => session.refetch()} />;
  if (session.data === null) return <>{signedOut}</>;
  if (me.isError) return <ErrorState error={me.error} onRetry={() => me.refetch()} />;
  if (!value) return <LoadingState label="Reading your access…" />;
  return <SignedInContext.Provider value={value}>{children}</SignedInContext.Provider>;
}

const LANDINGS: readonly Landing[] = ['governance', 'spend', 'me', 'usage'];
const PREFERENCE = 'gatehouse:landing';

/** The person's own choice of home page, kept in this browser; unset means the server's default. */
export function landingPreference(): Landing | undefined {
  const stored = globalThis.localStorage?.getItem(PREFERENCE);
  return LANDINGS.find((landing) => landing === stored);
}

export function setLandingPreference(landing: Landing | undefined): void {
  if (landing) localStorage.setItem(PREFERENCE, landing);
  else localStorage.removeItem(PREFERENCE);
}

export const landingPaths: Record<Landing, string> = {
  governance: '/governance',
  spend: '/spend',
  me: '/me',
  usage: '/usage',
};

/** `?landing=` on the address wins for that visit, then the stored preference, then the server. */
export function landingOf(me: Me, search: string): Landing {
  const asked = new URLSearchParams(search).get('landing');
  return LANDINGS.find((landing) => landing === asked) ?? landingPreference() ?? me.landing;
}
