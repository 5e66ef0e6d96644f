/**
 * Declarations' `auth` for the sandbox OP's app-only clients (see ./op-apps.ts), as a user writes
 * them, and the key files they reference. Used by `npm run sandbox`, the tests and the benches.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { OAuthAuthentication, SecretReference } from "../provider/declaration/generated/declaration.js";
import type { SandboxOP } from "./op.js";
import { SANDBOX_APP_MAILBOX } from "./op-apps.js";

/** Which app credential a declaration uses. */
export type SandboxAppCredential =
  | { kind: "client-secret"; clientSecret: SecretReference }
  | { kind: "client-assertion"; privateKeyFile: string; certificateFile?: string }
  | { kind: "service-account"; serviceAccountKey: SecretReference };

/**
 * The `auth` of an app-only declaration for the sandbox: flow client-credentials (with a secret
 * or a client assertion) or service-account, sending as the mailbox the apps are granted.
 * @example
 * const auth = sandboxAppAuth(op, { kind: "service-account", serviceAccountKey: { file: "sa.json" } });
 */
export function sandboxAppAuth(
  op: SandboxOP,
  credential: SandboxAppCredential,
  overrides: Partial<OAuthAuthentication> = {},
): OAuthAuthentication {
  const common = {
    method: "oauth" as const,
    scopes: [op.apps.scope] as [string],
    username: SANDBOX_APP_MAILBOX,
  };
  switch (credential.kind) {
    case "client-secret":
      return {
        ...common,
        flow: "client-credentials",
        issuer: op.issuer,
        clientId: op.apps.secret.clientId,
        clientSecret: credential.clientSecret,
        ...overrides,
      };
    case "client-assertion":
      return {
        ...common,
        flow: "client-credentials",
        issuer: op.issuer,
        clientId: op.apps.certificate.clientId,
        clientAssertion: {
          privateKey: { file: credential.privateKeyFile },
          ...(credential.certificateFile && { certificate: { file: credential.certificateFile } }),
        },
        ...overrides,
      };
    case "service-account":
      return {
        ...common,
        flow: "service-account",
        serviceAccountKey: credential.serviceAccountKey,
        ...overrides,
      };
  }
}

/** The file names writeSandboxAppFiles uses, relative to its folder. */
export const SANDBOX_APP_FILES = {
  clientSecret: "app-client-secret",
  privateKey: "app-key.pem",
  certificate: "app-certificate.pem",
  serviceAccountKey: "service-account.json",
} as const;

/** Writes the apps' secret, key, certificate and service account key into `dir` (mode 0600). */
export function writeSandboxAppFiles(op: SandboxOP, dir: string): typeof SANDBOX_APP_FILES {
  const files: Record<keyof typeof SANDBOX_APP_FILES, string> = {
    clientSecret: `${op.apps.secret.clientSecret}\n`,
    privateKey: op.apps.certificate.privateKeyPem,
    certificate: op.apps.certificate.certificatePem,
    serviceAccountKey: op.apps.serviceAccount.keyJson,
  };
  for (const [key, content] of Object.entries(files)) {
    writeFileSync(join(dir, SANDBOX_APP_FILES[key as keyof typeof SANDBOX_APP_FILES]), content, {
      mode: 0o600,
    });
  }
  return SANDBOX_APP_FILES;
}
