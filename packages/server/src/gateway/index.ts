/**
 * The gateway's public interface: what the control plane and the app builder may use. Everything
 * else under `gateway/` is the pipeline's own (a test holds control code to this file), so its
 * rooms can change without the control plane noticing. The wiring, which assembles the parts,
 * is the one place that reaches in.
 */
export { budgetScopesOf } from './admission/budget-admission.js';
export type { Authenticator, EffectivePolicy, ResolvedKey } from './auth/authenticator.js';
export { bearerToken, keyFromRequest } from './auth/client-key.js';
export type { CircuitBreakers } from './dispatch/circuit-breaker.js';
export { type ConnectionTestResult, testConnection } from './dispatch/connection-test.js';
export { previewRoute, type RoutePreview } from './dispatch/route-preview.js';
export type { UpstreamClient } from './dispatch/upstream.js';
export { dialectFromAnthropicVersion } from './http/client-dialect.js';
export { acceptRawBodies } from './http/route-requests.js';
export { type GatewayRouteOptions, gatewayRoutes } from './http/routes.js';
export { sendGatewayError, toGatewayError } from './pipeline.js';
export { adapterFor, registeredAdapters } from './providers/registry.js';
export type { ProviderAdapter, StandingCredential } from './providers/types.js';
