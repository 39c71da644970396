/**
 * AWS Signature Version 4 for Bedrock Runtime, with the signer kept per credential: the signer
 * caches its derived signing key per day, so a fresh one per request would redo four HMACs.
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { ProviderTarget } from '../types.js';

/** The SigV4 signing name of Bedrock Runtime (the host is `bedrock-runtime`, the service is not). */
const SIGNING_SERVICE = 'bedrock';
/** Bound on cached signers; a deployment has a handful of Bedrock credentials. */
const MAX_SIGNERS = 256;

const signers = new Map<string, SignatureV4>();

function signerFor(target: ProviderTarget, region: string): SignatureV4 {
  const { accessKeyId, secretAccessKey, sessionToken } = target.secret;
  if (!accessKeyId || !secretAccessKey) {
    throw new Error(`Bedrock credential '${target.name}' has no AWS access key id and secret access key.`);
  }
  // Keyed by everything the signer bakes in, so an edited credential never signs with old keys.
  const cacheKey = `${target.id}\u0000${region}\u0000${accessKeyId}\u0000${secretAccessKey}\u0000${sessionToken ?? ''}`;
  let signer = signers.get(cacheKey);
  if (!signer) {
    signer = new SignatureV4({
      service: SIGNING_SERVICE,
      region,
      credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) },
      sha256: Sha256,
    });
    if (signers.size >= MAX_SIGNERS) signers.clear();
    signers.set(cacheKey, signer);
  }
  return signer;
}

export interface RequestToSign {
  /** POST for model calls; the connection probe's list is a GET. */
  method?: 'POST' | 'GET';
  /** e.g. https://bedrock-runtime.us-east-1.amazonaws.com */
  origin: string;
  /** Path as it goes on the wire, already percent-encoded. */
  path: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
}

/**
 * Returns the headers with `authorization`, `x-amz-date`, `x-amz-content-sha256` and, for
 * temporary credentials, `x-amz-security-token` added. `host` is signed, so it is set here to
 * exactly what the HTTP client sends for the origin.
 */
export async function signedHeaders(
  target: ProviderTarget,
  region: string,
  request: RequestToSign,
): Promise<Record<string, string>> {
  const url = new URL(request.origin);
  const signed = await signerFor(target, region).sign({
    method: request.method ?? 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port ? { port: Number(url.port) } : {}),
    path: request.path,
    query: {},
    headers: { ...request.headers, host: url.host },
    body: request.body,
  });
  return signed.headers;
}
