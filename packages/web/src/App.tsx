import { lazy, type ReactNode, Suspense } from 'react';
import { Navigate, Route, Routes, useLocation } from 'react-router';
import { PageTitle } from './components';
import { MePage } from './pages/me';
import { SignInPage } from './pages/sign-in';
import { landingOf, landingPaths, SessionGate, useSignedIn } from './session';
import { destinations, Shell, visibleDestinations } from './shell';
import { EmptyState, LoadingState } from './states';

// Pages beyond the first screen load on demand, so the sign-in and /me pages stay small.
const loadGovernance = () => import('./pages/governance');
const loadUsage = () => import('./pages/usage');
const GovernancePage = lazy(() => loadGovernance().then((module) => ({ default: module.GovernancePage })));
const UsagePage = lazy(() => loadUsage().then((module) => ({ default: module.UsagePage })));
const AdminPages = lazy(() =>
  import('./pages/admin/index').then((module) => ({ default: module.AdminPage })),
);

/** The landing page's code, asked for while `/` still redirects, not after. */
const preloadLanding: Partial<Record<string, () => Promise<unknown>>> = {
  '/governance': loadGovernance,
  '/spend': loadGovernance,
  '/usage': loadUsage,
};

export function App() {
  return (
    <SessionGate signedOut={<SignInPage />}>
      <Shell>
        <Suspense fallback={<LoadingState />}>
          <Routes>
            <Route path="/" element={<Home />} />
            <Route path="/me" element={<MePage />} />
            <Route
              path="/governance"
              element={
                <Allowed path="/governance">
                  <GovernancePage mode="governance" />
                </Allowed>
              }
            />
            <Route
              path="/spend"
              element={
                <Allowed path="/spend">
                  <GovernancePage mode="spend" />
                </Allowed>
              }
            />
            <Route path="/usage" element={<UsagePage />} />
            {[
              '/providers',
              '/routing',
              '/budgets',
              '/rate-limits',
              '/keys',
              '/people',
              '/roles',
              '/tokens',
              '/audit',
              '/identity',
              '/organization',
            ].map((path) => (
              <Route
                key={path}
                path={path}
                element={
                  <Allowed path={path}>
                    <AdminPages path={path} />
                  </Allowed>
                }
              />
            ))}
            <Route path="*" element={<NotFound />} />
          </Routes>
        </Suspense>
      </Shell>
    </SessionGate>
  );
}

/** `/`: the person's home page, as the server chose it or they did. */
function Home() {
  const { me } = useSignedIn();
  const location = useLocation();
  const landing = landingPaths[landingOf(me, location.search)];
  void preloadLanding[landing]?.();
  return <Navigate to={landing} replace />;
}

/** A page the person's permissions do not open says so instead of failing call by call. */
function Allowed({ path, children }: { path: string; children: ReactNode }) {
  const signedIn = useSignedIn();
  const destination = destinations.find((item) => item.path === path);
  if (destination?.flag && signedIn.me.featureFlags[destination.flag] === false) {
    return (
      <>
        <PageTitle>Not available</PageTitle>
        <EmptyState title="This page is switched off for your organisation">
          An owner of your organisation can switch it back on.
        </EmptyState>
      </>
    );
  }
  if (destination && !visibleDestinations(signedIn).some((item) => item.path === path)) {
    return (
      <>
        <PageTitle>Not available</PageTitle>
        <EmptyState title="Your role does not include this page">
          Ask an administrator of your organisation if you need it.
        </EmptyState>
      </>
    );
  }
  return <>{children}</>;
}

function NotFound() {
  return (
    <>
      <PageTitle>Page not found</PageTitle>
      <EmptyState title="Nothing lives at this address">Use the navigation to find your way.</EmptyState>
    </>
  );
}
