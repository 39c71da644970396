/**
 * Mock of Azure OpenAI on one resource: `POST /openai/deployments/{deployment}/chat/completions`
 * and `/embeddings` (each requiring `?api-version=`), and the v1 surface's `POST /openai/v1/responses`
 * (the deployment named as `model`), all authenticated with the `api-key` header. Answers are
 * OpenAI's, as Azure's are.
 * @see https://learn.microsoft.com/en-us/azure/ai-foundry/openai/reference
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { openaiChat } from './openai.js';
import { openaiEmbeddings, openaiResponses } from './openai-responses.js';
import { type JsonBody, type MockScenario, sendJson } from './shared.js';

const DEPLOYMENT_PATH = /^\/openai\/deployments\/([^/]+)\/(chat\/completions|embeddings)$/;

/** Azure's error body: `{error: {code, message}}` with the status as a string code. */
function azureError(res: ServerResponse, status: number, message: string, code = String(status)): void {
  sendJson(res, status, { error: { code, message } }, { 'apim-request-id': 'mock' });
}

/** `POST /openai/…`, and the resource's model list. */
export async function azureRoute(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  search: string,
  raw: string,
  apiKey: string,
  next: () => MockScenario,
): Promise<void> {
  if (req.headers['api-key'] !== apiKey) {
    azureError(
      res,
      401,
      'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.',
    );
    return;
  }
  if (req.method === 'GET' && path === '/openai/models') {
    // @see https://learn.microsoft.com/en-us/rest/api/azureopenai/models/list
    sendJson(
      res,
      200,
      { object: 'list', data: [{ id: 'gpt-4o-mini', object: 'model', status: 'succeeded' }] },
      {},
    );
    return;
  }
  const deployment = DEPLOYMENT_PATH.exec(path);
  const isResponses = path === '/openai/v1/responses';
  if (!deployment && !isResponses) {
    azureError(res, 404, 'Resource not found');
    return;
  }
  // The dated surface needs api-version; the v1 surface takes none.
  if (deployment && !new URLSearchParams(search).get('api-version')) {
    azureError(res, 404, 'Resource not found');
    return;
  }
  let body: JsonBody;
  try {
    body = JSON.parse(raw) as JsonBody;
  } catch {
    azureError(res, 400, 'Invalid JSON in request body.', 'BadRequest');
    return;
  }
  const scenario = next();
  if (isResponses) {
    await openaiResponses(res, body, scenario);
    return;
  }
  const name = decodeURIComponent((deployment as RegExpExecArray)[1] as string);
  // The deployment picks the model; a `model` in the body is ignored, and answers name the deployment's.
  const withModel = { ...body, model: name };
  if ((deployment as RegExpExecArray)[2] === 'embeddings') openaiEmbeddings(res, withModel, scenario);
  else await openaiChat(res, withModel, scenario);
}
