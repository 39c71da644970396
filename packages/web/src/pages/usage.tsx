import { PageTitle } from '../components';
import { EmptyState } from '../states';

export function UsagePage() {
  return (
    <>
      <PageTitle>Usage</PageTitle>
      <EmptyState title="Coming next" />
    </>
  );
}
