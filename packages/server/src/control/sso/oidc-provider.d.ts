/**
 * The part of panva's oidc-provider (v9, shipped without type declarations) that the development
 * identity provider uses. Kept to what `dev-idp.ts` calls, so a wrong call fails the build.
 */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export interface Interaction {
    uid: string;
    prompt: { name: string };
    params: Record<string, unknown>;
  }

  export interface Grant {
    addOIDCScope(scope: string): void;
    save(): Promise<string>;
  }

  /** The context a prompt check sees: what the current interaction has resolved so far. */
  export interface PromptContext {
    oidc: { result?: { login?: unknown } };
  }

  export interface PolicyCheck {
    reason: string;
  }

  export interface InteractionPolicy {
    get(name: string): { checks: PolicyCheck[] } | undefined;
  }

  export const interactionPolicy: {
    base(): InteractionPolicy;
    Check: new (
      reason: string,
      description: string,
      check: (context: PromptContext) => boolean,
    ) => PolicyCheck;
  };

  export default class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>);
    readonly Grant: new (properties: {
      accountId: string;
      clientId: string;
    }) => Grant;
    callback(): (request: IncomingMessage, response: ServerResponse) => void;
    interactionDetails(request: IncomingMessage, response: ServerResponse): Promise<Interaction>;
    interactionResult(
      request: IncomingMessage,
      response: ServerResponse,
      result: Record<string, unknown>,
      options?: { mergeWithLastSubmission?: boolean },
    ): Promise<string>;
    on(event: 'server_error', listener: (context: unknown, error: Error) => void): this;
  }
}
