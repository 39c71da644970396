// Generated from the server's provider registry (packages/server/src/gateway/providers/registry.ts)
// by packages/server/test/cli-provider-fields.test.ts; GATEHOUSE_UPDATE_GENERATED=1 rewrites it. Do not edit.

/** A provider type the server knows, and the fields it cannot be created without. */
export interface ProviderTypeSpec {
  type: string;
  description: string;
  required: readonly string[];
}

/** A type-specific field of a provider credential: a flag of `gatehouse admin providers add`. */
export interface ProviderFieldSpec {
  field: string;
  kind: 'string' | 'number' | 'boolean' | 'json';
  /** Sealed by the server and never returned; the CLI also reads it from the environment. */
  secret: boolean;
  description: string;
}

export const providerTypeSpecs: readonly ProviderTypeSpec[] = [
  {
    type: 'openai',
    description: 'OpenAI, or any OpenAI-compatible server at baseUrl (vLLM, Ollama, a proxy)',
    required: [],
  },
  {
    type: 'anthropic',
    description: "Anthropic's Messages API, or a server at baseUrl that speaks it",
    required: [],
  },
  {
    type: 'gemini',
    description: "Google AI Studio's Gemini API",
    required: [],
  },
  {
    type: 'azure',
    description:
      "Azure OpenAI: OpenAI's APIs on your resource (baseUrl: https://{resource}.openai.azure.com)",
    required: ['baseUrl'],
  },
  {
    type: 'bedrock',
    description: 'AWS Bedrock Runtime: Claude through InvokeModel, other models through Converse',
    required: ['region', 'accessKeyId', 'secretAccessKey'],
  },
  {
    type: 'vertex',
    description: 'Google Vertex AI: Gemini natively, Claude through rawPredict',
    required: ['projectId', 'location', 'serviceAccountJson'],
  },
];

export const providerFieldSpecs: readonly ProviderFieldSpec[] = [
  {
    field: 'apiKey',
    kind: 'string',
    secret: true,
    description: 'openai, anthropic, gemini, azure: the API key',
  },
  {
    field: 'apiVersion',
    kind: 'string',
    secret: false,
    description: 'azure: the api-version query parameter',
  },
  {
    field: 'deployments',
    kind: 'json',
    secret: false,
    description: 'azure: model name → deployment name',
  },
  {
    field: 'region',
    kind: 'string',
    secret: false,
    description: 'bedrock: AWS region, e.g. us-east-1',
  },
  {
    field: 'accessKeyId',
    kind: 'string',
    secret: true,
    description: 'bedrock: AWS access key id',
  },
  {
    field: 'secretAccessKey',
    kind: 'string',
    secret: true,
    description: 'bedrock: AWS secret access key',
  },
  {
    field: 'sessionToken',
    kind: 'string',
    secret: true,
    description: 'bedrock: AWS session token, for temporary keys',
  },
  {
    field: 'projectId',
    kind: 'string',
    secret: false,
    description: 'vertex: Google Cloud project id',
  },
  {
    field: 'location',
    kind: 'string',
    secret: false,
    description: 'vertex: region, e.g. us-east5 or global',
  },
  {
    field: 'serviceAccountJson',
    kind: 'string',
    secret: true,
    description: 'vertex: the service account key file, as JSON text',
  },
];
