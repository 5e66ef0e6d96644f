// Normalized OAuth settings for the sandbox and fake issuers (what normalizeDeclaration would give).
import type { NormalizedOAuthAuth } from "../../provider/declaration/normalize.js";

export { sandboxAuth } from "../../sandbox/grant.js";

export function fakeAuth(issuer: string, overrides: Partial<NormalizedOAuthAuth> = {}): NormalizedOAuthAuth {
  return {
    method: "oauth",
    issuer,
    clientId: "fake-client",
    scopes: ["openid", "email", "offline_access"],
    flow: "loopback",
    authorizationParams: {},
    rotatesRefreshTokens: false,
    usernameClaims: ["email"],
    ...overrides,
  };
}

/** Catches the error a promise rejects with (fails the test when it resolves). */
export async function rejection(
  promise: Promise<unknown>,
): Promise<Error & { code?: string; remedy?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error("expected a rejection");
}
