import type { JsonObject } from '@gatehouse/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { notFound } from './errors.js';
import { GROUP_SCHEMA, listResponse, MAX_PAGE_SIZE, USER_SCHEMA } from './resources.js';

/**
 * What an identity provider reads to learn what this service provider supports: PATCH and
 * filtering yes, bulk, sorting, ETags and password changes no; bearer tokens for auth.
 * @see https://www.rfc-editor.org/rfc/rfc7644#section-4
 * @see https://www.rfc-editor.org/rfc/rfc7643#section-5
 */

const SERVICE_PROVIDER_CONFIG_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig';
const RESOURCE_TYPE_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType';
const SCHEMA_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Schema';

interface AttributeOptions {
  type?: 'string' | 'boolean' | 'complex' | 'reference' | 'dateTime';
  multiValued?: boolean;
  required?: boolean;
  caseExact?: boolean;
  mutability?: 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
  uniqueness?: 'none' | 'server' | 'global';
  referenceTypes?: string[];
  subAttributes?: JsonObject[];
}

/** One attribute definition with RFC 7643 §7's characteristics, defaults filled in. */
function attribute(name: string, description: string, options: AttributeOptions = {}): JsonObject {
  const type = options.type ?? 'string';
  return {
    name,
    type,
    multiValued: options.multiValued ?? false,
    description,
    required: options.required ?? false,
    ...(type === 'string' || type === 'reference' ? { caseExact: options.caseExact ?? false } : {}),
    mutability: options.mutability ?? 'readWrite',
    returned: 'default',
    uniqueness: options.uniqueness ?? 'none',
    ...(options.referenceTypes ? { referenceTypes: options.referenceTypes } : {}),
    ...(options.subAttributes ? { subAttributes: options.subAttributes } : {}),
  };
}

const userSchema = {
  id: USER_SCHEMA,
  name: 'User',
  description: 'A person. userName is their email address.',
  attributes: [
    attribute('userName', 'The email address the person signs in with; unique in the organisation.', {
      required: true,
      uniqueness: 'server',
    }),
    attribute('name', 'The person’s name; one formatted name is kept.', {
      type: 'complex',
      subAttributes: [
        attribute('formatted', 'The full name.'),
        attribute('givenName', 'Given name, joined with familyName when formatted is absent.'),
        attribute('familyName', 'Family name.'),
      ],
    }),
    attribute('displayName', 'The name shown; used when name is absent.'),
    attribute('emails', 'The userName again, as the primary work email.', {
      type: 'complex',
      multiValued: true,
      mutability: 'readOnly',
      subAttributes: [
        attribute('value', 'The email address.'),
        attribute('type', 'Always work.', { mutability: 'readOnly' }),
        attribute('primary', 'Always true.', { type: 'boolean', mutability: 'readOnly' }),
      ],
    }),
    attribute('active', 'False deactivates the person and revokes every key, CLI sign-in and session.', {
      type: 'boolean',
    }),
    attribute('groups', 'The one team the person is in.', {
      type: 'complex',
      multiValued: true,
      mutability: 'readOnly',
      subAttributes: [
        attribute('value', 'The team id.', { mutability: 'readOnly' }),
        attribute('display', 'The team name.', { mutability: 'readOnly' }),
        attribute('$ref', 'The Group resource.', {
          type: 'reference',
          referenceTypes: ['Group'],
          mutability: 'readOnly',
        }),
      ],
    }),
  ],
};

const groupSchema = {
  id: GROUP_SCHEMA,
  name: 'Group',
  description: 'A team. A person is in at most one: adding them to a group moves them.',
  attributes: [
    attribute('displayName', 'The team name; unique in the organisation.', {
      required: true,
      uniqueness: 'server',
    }),
    attribute('members', 'The people in the team.', {
      type: 'complex',
      multiValued: true,
      subAttributes: [
        attribute('value', 'The user id.', { mutability: 'immutable', caseExact: true }),
        attribute('display', 'The person’s name.', { mutability: 'readOnly' }),
        attribute('$ref', 'The User resource.', {
          type: 'reference',
          referenceTypes: ['User'],
          mutability: 'immutable',
        }),
      ],
    }),
  ],
};

const resourceTypes = [
  { id: 'User', name: 'User', endpoint: '/Users', description: 'People', schema: USER_SCHEMA },
  { id: 'Group', name: 'Group', endpoint: '/Groups', description: 'Teams', schema: GROUP_SCHEMA },
];

export function discoveryRoutes(app: FastifyInstance, baseOf: (request: FastifyRequest) => string): void {
  app.get('/ServiceProviderConfig', { schema: { hide: true } }, async (request) => ({
    schemas: [SERVICE_PROVIDER_CONFIG_SCHEMA],
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: MAX_PAGE_SIZE },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: false },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'OAuth Bearer Token',
        description: 'A SCIM token from POST /api/admin/scim-tokens, or GATEHOUSE_SCIM_TOKEN.',
        primary: true,
      },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: `${baseOf(request)}/ServiceProviderConfig` },
  }));

  const resourceType = (type: (typeof resourceTypes)[number], base: string) => ({
    schemas: [RESOURCE_TYPE_SCHEMA],
    ...type,
    schemaExtensions: [],
    meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/${type.id}` },
  });
  app.get('/ResourceTypes', { schema: { hide: true } }, async (request) => {
    const all = resourceTypes.map((type) => resourceType(type, baseOf(request)));
    return listResponse(all, all.length, 1);
  });
  app.get<{ Params: { id: string } }>('/ResourceTypes/:id', { schema: { hide: true } }, async (request) => {
    const type = resourceTypes.find((candidate) => candidate.id === request.params.id);
    if (!type) throw notFound('resource type');
    return resourceType(type, baseOf(request));
  });

  const schema = (definition: typeof userSchema, base: string) => ({
    schemas: [SCHEMA_SCHEMA],
    ...definition,
    meta: { resourceType: 'Schema', location: `${base}/Schemas/${definition.id}` },
  });
  app.get('/Schemas', { schema: { hide: true } }, async (request) => {
    const all = [userSchema, groupSchema].map((definition) => schema(definition, baseOf(request)));
    return listResponse(all, all.length, 1);
  });
  app.get<{ Params: { id: string } }>('/Schemas/:id', { schema: { hide: true } }, async (request) => {
    const definition = [userSchema, groupSchema].find((candidate) => candidate.id === request.params.id);
    if (!definition) throw notFound('schema');
    return schema(definition, baseOf(request));
  });
}
