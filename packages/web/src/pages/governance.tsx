import { PageTitle } from '../components';
import { EmptyState } from '../states';

export function GovernancePage({ mode }: { mode: 'governance' | 'spend' }) {
  return (
    <>
      <PageTitle>{mode === 'spend' ? 'Spend' : 'Governance'}</PageTitle>
      <EmptyState title="Coming next" />
    </>
  );
}
