// Normalized OAuth settings for the sandbox and fake issuers (what normalizeDeclaration would give),
// and OAuth declaration files for the CLI.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
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

/**
 * Writes a minimal OAuth declaration (SMTP on 127.0.0.1 over TLS) as `<dir>/<name>.yaml` and returns
 * its path. `auth` holds the fields besides `method: oauth`, each written as JSON (which is YAML).
 */
export async function writeOAuthDeclaration(
  dir: string,
  name: string,
  auth: Record<string, unknown>,
): Promise<string> {
  const file = join(dir, `${name}.yaml`);
  const lines = Object.entries({ method: "oauth", ...auth })
    .map(([key, value]) => `  ${key}: ${JSON.stringify(value)}`)
    .join("\n");
  await writeFile(
    file,
    `version: 1\nname: ${name}\nsmtp:\n  host: 127.0.0.1\n  protocol: tls\nauth:\n${lines}\n`,
  );
  return file;
}
