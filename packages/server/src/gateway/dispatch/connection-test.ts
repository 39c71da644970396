import { isRecord } from '@gatehouse/core';
import type { Dispatcher } from 'undici';
import { RefusedAddressError } from '../../security/outbound-networks.js';
import type { ProviderAdapter, ProviderTarget, UpstreamRequest } from '../providers/types.js';
import type { UpstreamClient } from './upstream.js';

/** What "test the connection" answers: whether the credential works, and what to do if not. */
export interface ConnectionTestResult {
  ok: boolean;
  /** The provider's HTTP status, or null when it never answered. */
  status: number | null;
  latencyMs: number;
  /** A sentence a person can act on; never a secret. */
  message: string;
}

/** Longest wait for the probe: a person is looking at a spinner. */
export const CONNECTION_TEST_TIMEOUT_MS = 10_000;
/** The most of the provider's answer read for its error message. */
const MAX_ANSWER_BYTES = 16_384;

/**
 * Sends the adapter's connection probe through the gateway's own upstream client (so the outbound
 * address rules and timeouts are the ones calls get) and turns the outcome into advice. The
 * breaker is not touched: a person testing a broken key must not take it out of rotation.
 */
export async function testConnection(
  upstream: UpstreamClient,
  adapter: ProviderAdapter,
  target: ProviderTarget,
  timeoutMs = CONNECTION_TEST_TIMEOUT_MS,
): Promise<ConnectionTestResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  let request: UpstreamRequest;
  try {
    request = await adapter.connectionProbe(target, upstream);
  } catch (error) {
    // Vertex mints its token here: a bad key file is refused by Google's token endpoint.
    return failed(null, elapsed(), `The request could not be prepared: ${scrub(messageOf(error), target)}`);
  }
  let response: Dispatcher.ResponseData;
  try {
    response = await upstream.send(request, AbortSignal.timeout(timeoutMs));
  } catch (error) {
    return failed(null, elapsed(), unreachable(error, request.origin, timeoutMs));
  }
  const answer = await readAnswer(response);
  const latencyMs = elapsed();
  const status = response.statusCode;
  if (status < 300) {
    if (!isJson(response.headers['content-type'])) {
      return failed(
        status,
        latencyMs,
        `${request.origin} answered with something other than the provider's JSON (a proxy or login page?); check the base URL.`,
      );
    }
    return { ok: true, status, latencyMs, message: `Connected: ${request.origin} accepted the credential.` };
  }
  const said = providerMessage(answer);
  const quoted = said ? ` The provider said: “${scrub(said, target)}”` : '';
  return failed(status, latencyMs, `${adviceFor(status)}${quoted}`);
}

function failed(status: number | null, latencyMs: number, message: string): ConnectionTestResult {
  return { ok: false, status, latencyMs, message };
}

/** What a status means for the person holding the credential. */
function adviceFor(status: number): string {
  if (status === 401)
    return 'The provider refused the credential (401): the key is wrong, revoked or expired; rotate the secret.';
  if (status === 403)
    return 'The provider knows the credential but refused it here (403): check its permissions and the region, project or deployment it may use.';
  if (status === 404)
    return 'Nothing answered at this address (404): check the base URL, region, project or deployment.';
  if (status === 429)
    return 'The provider is limiting this credential (429): it is out of quota or busy; try again later.';
  if (status >= 500) return `The provider failed (${status}); it is not the credential. Try again later.`;
  // AI Studio answers a wrong key with 400 API_KEY_INVALID; its message says so.
  return `The provider refused the request (${status}).`;
}

function unreachable(error: unknown, origin: string, timeoutMs: number): string {
  if (error instanceof RefusedAddressError) {
    return `Gatehouse may not call ${error.host}: it is ${error.network}. An operator can allow that range with GATEHOUSE_UPSTREAM_ALLOWED_NETWORKS, or change the base URL.`;
  }
  const code = isRecord(error) && typeof error.code === 'string' ? error.code : undefined;
  if (isRecord(error) && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `${origin} did not answer within ${timeoutMs / 1000} s; check the base URL and that the network reaches it.`;
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return `${origin} could not be resolved (no such host); check the base URL.`;
  if (code === 'ECONNREFUSED')
    return `${origin} refused the connection: nothing listens there; check the base URL.`;
  return `${origin} could not be reached${code ? ` (${code})` : ''}; check the base URL and the network.`;
}

async function readAnswer(response: Dispatcher.ResponseData): Promise<string> {
  let text = '';
  try {
    for await (const chunk of response.body) {
      text += Buffer.from(chunk as Uint8Array).toString('utf8');
      if (text.length >= MAX_ANSWER_BYTES) break;
    }
  } catch {
    // A broken answer still has a status, which is what the advice is built on.
  }
  response.body.destroy();
  return text.slice(0, MAX_ANSWER_BYTES);
}

/** The human part of a provider's error body, in any of the shapes the providers use. */
function providerMessage(answer: string): string | undefined {
  let body: unknown;
  try {
    body = JSON.parse(answer);
  } catch {
    return undefined;
  }
  if (!isRecord(body)) return undefined;
  const error = body.error;
  const candidates = [
    isRecord(error) ? error.message : error,
    body.message,
    body.Message,
    body.error_description,
  ];
  const found = candidates.find((value): value is string => typeof value === 'string' && value !== '');
  return found?.slice(0, 300);
}

/**
 * A provider message without any secret: the credential's own values, and any word with a mask
 * in it (OpenAI quotes a wrong key as `sk-abc***wxyz`).
 */
function scrub(text: string, target: ProviderTarget): string {
  let clean = text;
  for (const value of Object.values(target.secret)) {
    if (typeof value === 'string' && value.length >= 4) clean = clean.replaceAll(value, '[redacted]');
  }
  return clean.replace(/\S*\*{2,}\S*/g, '[redacted]');
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function isJson(contentType: string | string[] | undefined): boolean {
  const value = Array.isArray(contentType) ? contentType[0] : contentType;
  return value !== undefined && /json/i.test(value);
}
