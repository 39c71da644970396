import { useQuery } from '@tanstack/react-query';
import { api, type List, type Provider, type Team, type User, type VirtualKey } from './api';

/** Reads from the admin API, only when the person may (a query they may not make stays idle). */
export function useAdmin<T>(path: string, enabled = true) {
  return useQuery({
    queryKey: ['admin', path],
    queryFn: ({ signal }) => api<T>(`/api/admin${path}`, { signal }),
    enabled,
  });
}

/**
 * Names for the ids usage rows carry: people, teams, provider credentials and keys (a service
 * key's calls have the key itself as their principal).
 */
export function useNames(options: { users: boolean; teams: boolean; providers: boolean; keys?: boolean }) {
  const keys = useAdmin<List<VirtualKey>>('/virtual-keys', options.keys ?? false);
  const users = useAdmin<List<User>>('/users', options.users);
  const teams = useAdmin<List<Team>>('/teams', options.teams);
  const providers = useAdmin<List<Provider>>('/providers', options.providers);
  const names = new Map<string, string>();
  for (const user of users.data?.data ?? []) names.set(user.id, user.email);
  for (const team of teams.data?.data ?? []) names.set(team.id, team.name);
  for (const provider of providers.data?.data ?? []) names.set(provider.id, provider.name);
  for (const key of keys.data?.data ?? []) names.set(key.id, `${key.name} (${key.hint})`);
  return (id: string | null) => (id === null ? '(none)' : (names.get(id) ?? id));
}
