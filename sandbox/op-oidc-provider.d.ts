// oidc-provider ships no type declarations: this names only the part of its API the sandbox uses.
declare module "oidc-provider" {
  import type { IncomingMessage, ServerResponse } from "node:http";

  export interface KoaContext {
    method: string;
    path: string;
    status: number;
    body: unknown;
    request: { body?: Record<string, unknown> };
    req: IncomingMessage;
    res: ServerResponse;
    type: string;
    set(field: string, value: string): void;
  }

  export interface Account {
    accountId: string;
    claims(use: string, scope: string): Promise<Record<string, unknown>> | Record<string, unknown>;
  }

  export const errors: {
    CustomOIDCProviderError: new (error: string, description: string) => Error;
    InvalidClientAuth: new (detail: string) => Error;
  };

  export default class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>);
    proxy: boolean;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    use(middleware: (ctx: KoaContext, next: () => Promise<void>) => Promise<void>): void;
    on(event: string, listener: (...args: unknown[]) => void): void;
    registerGrantType(
      name: string,
      // biome-ignore lint/suspicious/noExplicitAny: the handler's context is oidc-provider's own
      handler: (ctx: any) => Promise<void>,
      params?: string | string[],
    ): void;
  }
}
