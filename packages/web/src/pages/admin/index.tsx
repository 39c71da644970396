import { AuditPage } from './audit';
import { BudgetsPage } from './budgets';
import { IdentityPage } from './identity';
import { KeysPage } from './keys';
import { OrganizationPage } from './organization';
import { PeoplePage } from './people';
import { ProvidersPage } from './providers';
import { RateLimitsPage } from './rate-limits';
import { RolesPage } from './roles';
import { RoutingPage } from './routing';
import { TokensPage } from './tokens';

/** The policy pages, loaded together on demand (administrators only need them). */
export function AdminPage({ path }: { path: string }) {
  switch (path) {
    case '/providers':
      return <ProvidersPage />;
    case '/routing':
      return <RoutingPage />;
    case '/budgets':
      return <BudgetsPage />;
    case '/keys':
      return <KeysPage />;
    case '/people':
      return <PeoplePage />;
    case '/rate-limits':
      return <RateLimitsPage />;
    case '/roles':
      return <RolesPage />;
    case '/audit':
      return <AuditPage />;
    case '/identity':
      return <IdentityPage />;
    case '/organization':
      return <OrganizationPage />;
    default:
      return <TokensPage />;
  }
}
