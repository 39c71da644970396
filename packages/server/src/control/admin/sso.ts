import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { isSecureOrLoopback } from '../../security/loopback.js';
import { hasUserinfo, type OutboundNetworks } from '../../security/outbound-networks.js';
import type { SsoConnections } from '../sso/connections.js';
import { adminError } from './replies.js';
import { errorSchema } from './schemas.js';

const httpsOrLoopback = (name: string) =>
  z
    .url()
    .refine(
      (value) => {
        const url = new URL(value);
        return isSecureOrLoopback(url);
      },
      { message: `${name} must be an https:// URL (http:// only on loopback)` },
    )
    .refine((value) => !hasUserinfo(value), { message: `${name} must not carry a user name or password` });

export const oidcBody = z
  .object({
    issuer: httpsOrLoopback('issuer').describe("The provider's issuer; discovery is read from it"),
    clientId: z.string().min(1).max(500),
    clientSecret: z.string().min(1).max(2000).optional().describe('Omit for a public client (PKCE only)'),
    keepClientSecret: z
      .boolean()
      .optional()
      .describe(
        'true: keep the client secret already stored for this clientId (secrets are never read back, so a form cannot resend it)',
      ),
  })
  .strict()
  .refine((body) => !(body.keepClientSecret && body.clientSecret !== undefined), {
    message: 'Give clientSecret or keepClientSecret, not both.',
    path: ['keepClientSecret'],
  });

export const samlBody = z
  .object({
    entryPoint: httpsOrLoopback('entryPoint').describe(
      "The IdP's single sign-on URL (HTTP-Redirect binding)",
    ),
    idpEntityId: z.string().min(1).max(1000).describe("The IdP's entity id: assertions must be issued by it"),
    certificates: z
      .array(z.string().min(100).max(20_000))
      .min(1)
      .max(4)
      .describe("The IdP's signing certificates, PEM or base64; several during a rotation"),
  })
  .strict();

const ssoView = z
  .object({
    oidc: z
      .object({
        issuer: z.string(),
        clientId: z.string(),
        hasClientSecret: z.boolean(),
        fromEnvironment: z
          .boolean()
          .describe(
            "Set by the server's GATEHOUSE_OIDC_* settings: it cannot be removed here, and a connection saved here takes its place",
          ),
      })
      .nullable(),
    saml: z
      .object({ entryPoint: z.string(), idpEntityId: z.string(), certificates: z.number().int() })
      .nullable(),
    redirectUri: z.string().describe('Register this at the OIDC provider'),
    samlAcsUrl: z
      .string()
      .describe('The SAML assertion consumer service; the SP entity id is the metadata URL'),
    samlMetadataUrl: z.string(),
  })
  .meta({ id: 'SsoSettings' });

const errors = { 400: errorSchema, 401: errorSchema, 404: errorSchema, 409: errorSchema };
const security = [{ adminToken: [] }];

/**
 * `/api/admin/sso`: the organisation's identity providers. Secrets go in and never come out;
 * the view says only whether a client secret is set.
 */
export function ssoAdminRoutes(
  parent: FastifyInstance,
  options: {
    connections: SsoConnections;
    publicUrl: string;
    /** The server fetches an OIDC issuer's discovery and token endpoints: it must be allowed. */
    outbound: OutboundNetworks;
  },
): void {
  const app = parent.withTypeProvider<ZodTypeProvider>();
  const { connections, publicUrl, outbound } = options;

  const view = async (organizationId: string) => {
    const oidc = await connections.get(organizationId, 'oidc');
    const saml = await connections.get(organizationId, 'saml');
    return {
      oidc: oidc
        ? {
            issuer: oidc.issuer,
            clientId: oidc.clientId,
            hasClientSecret: oidc.clientSecret !== undefined,
            fromEnvironment: await connections.isFromEnvironment(organizationId, 'oidc'),
          }
        : null,
      saml: saml
        ? {
            entryPoint: saml.entryPoint,
            idpEntityId: saml.idpEntityId,
            certificates: saml.certificates.length,
          }
        : null,
      redirectUri: `${publicUrl}/api/auth/sso/oidc/callback`,
      samlAcsUrl: `${publicUrl}/api/auth/sso/saml/acs`,
      samlMetadataUrl: `${publicUrl}/api/auth/sso/saml/metadata`,
    };
  };

  app.get(
    '/sso',
    {
      schema: {
        tags: ['sso'],
        summary: 'Single sign-on settings',
        security,
        response: { 200: ssoView, ...errors },
      },
    },
    async (request) => view(request.admin.organizationId),
  );
  app.put(
    '/sso/oidc',
    {
      schema: {
        tags: ['sso'],
        summary: 'Connect an OpenID Connect provider',
        security,
        body: oidcBody,
        response: { 200: ssoView, ...errors },
      },
    },
    async (request, reply) => {
      const refused = await outbound.refusalForUrl('issuer', request.body.issuer);
      if (refused) return reply.code(400).send({ error: { code: 'invalid_request', message: refused } });
      const { organizationId } = request.admin;
      let clientSecret = request.body.clientSecret;
      if (request.body.keepClientSecret) {
        const stored = await connections.get(organizationId, 'oidc');
        // A secret belongs to its client: it is never carried over to another client id.
        if (stored?.clientId !== request.body.clientId || stored.clientSecret === undefined) {
          return reply.code(400).send({
            error: {
              code: 'invalid_request',
              message: 'keepClientSecret: no client secret is stored for this clientId; give clientSecret.',
            },
          });
        }
        clientSecret = stored.clientSecret;
      }
      await connections.put(organizationId, {
        protocol: 'oidc',
        issuer: request.body.issuer.replace(/\/+$/, ''),
        clientId: request.body.clientId,
        clientSecret,
      });
      return view(request.admin.organizationId);
    },
  );
  app.put(
    '/sso/saml',
    {
      schema: {
        tags: ['sso'],
        summary: 'Connect a SAML 2.0 identity provider',
        security,
        body: samlBody,
        response: { 200: ssoView, ...errors },
      },
    },
    async (request) => {
      // The entry point is where browsers are sent, never fetched by the server: no SSRF there.
      await connections.put(request.admin.organizationId, { protocol: 'saml', ...request.body });
      return view(request.admin.organizationId);
    },
  );
  app.delete(
    '/sso/:protocol',
    {
      schema: {
        tags: ['sso'],
        summary: 'Disconnect an identity provider',
        security,
        params: z.object({ protocol: z.enum(['oidc', 'saml']) }),
        response: { 204: z.null(), ...errors },
      },
    },
    async (request, reply) => {
      const { organizationId } = request.admin;
      const removed = await connections.remove(organizationId, request.params.protocol);
      if (removed) return reply.code(204).send(null);
      if (await connections.isFromEnvironment(organizationId, request.params.protocol)) {
        return reply
          .code(409)
          .send(
            adminError(
              'set_by_environment',
              "This connection is set by the server's GATEHOUSE_OIDC_* settings; remove it there and restart, or save another connection here to take its place.",
            ),
          );
      }
      return reply.code(404).send(adminError('not_found', 'no such connection'));
    },
  );
}
