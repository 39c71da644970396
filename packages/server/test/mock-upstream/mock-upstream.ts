/**
 * Mock of the OpenAI and Anthropic HTTP APIs (exact wire formats, streaming included) for tests and the
 * benchmark baseline. OpenAI base URL: `${url}/v1`; Anthropic base URL: `${url}`.
 */

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  anthropicAuthFails,
  anthropicCountTokens,
  anthropicError,
  anthropicMessages,
  anthropicModels,
} from './anthropic.js';
import { azureRoute } from './azure.js';
import { bedrockFoundationModels, bedrockRoute } from './bedrock.js';
import { geminiRoute } from './gemini.js';
import { openaiAuthFails, openaiChat, openaiError, openaiModels } from './openai.js';
import { openaiEmbeddings, openaiResponses } from './openai-responses.js';
import { isGone, type JsonBody, type MockScenario, sleep } from './shared.js';
import { vertexRoute, vertexToken } from './vertex.js';

export type { MockScenario, MockUsage } from './shared.js';

export interface RecordedRequest {
  method: string;
  /** Path including the query string. */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON, or undefined when the body was empty or not JSON. */
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary request fields.
  body: any;
  rawBody: string;
}

export interface MockUpstream {
  /** e.g. http://127.0.0.1:PORT (OpenAI base is `${url}/v1`, Anthropic base is `${url}`). */
  url: string;
  requests: RecordedRequest[];
  /**
   * Scenarios applied to the next generation requests (POST /v1/chat/completions and /v1/messages that
   * passed auth and JSON parsing), one each, FIFO; when empty the default scenario answers.
   */
  enqueue(...scenarios: MockScenario[]): void;
  setDefault(scenario: MockScenario): void;
  /**
   * Responses whose connection closed before the mock finished writing them: a client (the
   * gateway) that went away, or the mock's own `cutAfterEvents`.
   */
  readonly unfinishedResponses: number;
  /** Clear requests, queue and default. */
  reset(): void;
  close(): Promise<void>;
}

export interface MockUpstreamOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Record requests into `requests` (default true; the benchmark turns it off). */
  record?: boolean;
  /** The provider key the mock accepts (both providers); anything else gets 401. */
  apiKey?: string;
}

export const MOCK_UPSTREAM_API_KEY = 'sk-mock-upstream-key';

export async function startMockUpstream(options: MockUpstreamOptions = {}): Promise<MockUpstream> {
  const apiKey = options.apiKey ?? MOCK_UPSTREAM_API_KEY;
  const record = options.record !== false;
  const host = options.host ?? '127.0.0.1';
  const requests: RecordedRequest[] = [];
  const queue: MockScenario[] = [];
  const EMPTY: MockScenario = {};
  let fallback: MockScenario = EMPTY;
  const next = (): MockScenario => queue.shift() ?? fallback;

  async function route(req: IncomingMessage, res: ServerResponse, raw: string): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    let body: JsonBody | undefined;
    let malformed = false;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw) as JsonBody;
      } catch {
        malformed = true;
      }
    }
    if (record) {
      requests.push({
        method: req.method ?? 'GET',
        path: url,
        headers: { ...req.headers },
        body,
        rawBody: raw,
      });
    }
    const post = req.method === 'POST';
    const h = req.headers;
    const anthropicFlavour = h['anthropic-version'] !== undefined || h['x-api-key'] !== undefined;

    if (post && path.startsWith('/model/')) {
      await bedrockRoute(req, res, path, raw, next);
      return;
    }
    if (req.method === 'GET' && path === '/foundation-models') {
      await bedrockFoundationModels(req, res, path);
      return;
    }
    if (post && path === '/token') {
      vertexToken(res, raw);
      return;
    }
    if (post && path.startsWith('/v1/projects/')) {
      await vertexRoute(req, res, path, q < 0 ? '' : url.slice(q), raw, next);
      return;
    }
    if (path.startsWith('/v1beta/')) {
      await geminiRoute(req, res, path, q < 0 ? '' : url.slice(q), raw, apiKey, next);
      return;
    }
    if (path.startsWith('/openai/')) {
      await azureRoute(req, res, path, q < 0 ? '' : url.slice(q), raw, apiKey, next);
      return;
    }
    if (post && (path === '/v1/responses' || path === '/v1/embeddings')) {
      if (openaiAuthFails(req, res, apiKey)) return;
      if (malformed || body === undefined || typeof body !== 'object' || Array.isArray(body)) {
        openaiError(res, 400, undefined, { message: 'We could not parse the JSON body of your request.' });
        return;
      }
      const scenario = next();
      if (path === '/v1/embeddings') openaiEmbeddings(res, body, scenario);
      else await openaiResponses(res, body, scenario);
      return;
    }
    if (post && path === '/v1/chat/completions') {
      if (openaiAuthFails(req, res, apiKey)) return;
      if (malformed || body === undefined || typeof body !== 'object' || Array.isArray(body)) {
        openaiError(res, 400, undefined, {
          message:
            "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)",
        });
        return;
      }
      const scenario = next();
      if (scenario.firstByteDelayMs) await sleep(scenario.firstByteDelayMs);
      await openaiChat(res, body, scenario);
      return;
    }
    if (post && (path === '/v1/messages' || path === '/v1/messages/count_tokens')) {
      if (anthropicAuthFails(req, res, apiKey)) return;
      if (malformed || body === undefined || typeof body !== 'object' || Array.isArray(body)) {
        anthropicError(res, 400, undefined, {
          message:
            raw.length === 0 ? 'Request body is empty' : 'There was an error parsing the body as JSON.',
        });
        return;
      }
      if (path === '/v1/messages/count_tokens') {
        anthropicCountTokens(res, body);
        return;
      }
      const scenario = next();
      if (scenario.firstByteDelayMs) await sleep(scenario.firstByteDelayMs);
      await anthropicMessages(res, body, scenario);
      return;
    }
    if (req.method === 'GET' && path === '/v1/models') {
      if (anthropicFlavour) {
        if (!anthropicAuthFails(req, res, apiKey)) anthropicModels(res);
      } else if (!openaiAuthFails(req, res, apiKey)) {
        openaiModels(res);
      }
      return;
    }
    if (anthropicFlavour) {
      anthropicError(res, 404, undefined, { message: `Not found: ${req.method} ${path}` });
    } else {
      openaiError(res, 404, undefined, { message: `Invalid URL (${req.method} ${path})`, code: null });
    }
  }

  let unfinishedResponses = 0;
  const server = createServer({ keepAliveTimeout: 120_000, requestTimeout: 0 }, (req, res) => {
    res.once('close', () => {
      if (!res.writableEnded) unfinishedResponses += 1;
    });
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('error', () => res.destroy());
    req.on('end', () => {
      const raw =
        chunks.length === 0
          ? ''
          : chunks.length === 1
            ? (chunks[0] as Buffer).toString('utf8')
            : Buffer.concat(chunks).toString('utf8');
      route(req, res, raw).catch(() => {
        if (isGone(res)) return;
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(
          '{"error":{"message":"mock upstream crashed","type":"server_error","param":null,"code":null}}',
        );
      });
    });
  });
  server.headersTimeout = 125_000;
  server.maxRequestsPerSocket = 0;
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  return {
    url: `http://${urlHost}:${port}`,
    requests,
    enqueue(...scenarios) {
      queue.push(...scenarios);
    },
    setDefault(scenario) {
      fallback = scenario;
    },
    get unfinishedResponses() {
      return unfinishedResponses;
    },
    reset() {
      requests.length = 0;
      queue.length = 0;
      fallback = EMPTY;
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
    },
  };
}
