import { PageTitle } from '../components';
import { EmptyState } from '../states';

export function AdminPage({ path }: { path: string }) {
  return (
    <>
      <PageTitle>{path}</PageTitle>
      <EmptyState title="Coming next" />
    </>
  );
}
