/**
 * A grant from the sandbox OP, obtained the way a person obtains one: the real authorize()
 * (device or loopback flow) with the sign-in and consent done on the OP's real pages. Used by the
 * tests, the benches and the demo, which all need a working grant before what they measure.
 */
import type { OAuthAuthentication } from "../provider/declaration/generated/declaration.js";
import type { NormalizedOAuthAuth } from "../provider/declaration/normalize.js";
import { writePrivateFileAtomically } from "../provider/declaration/secrets.js";
import {
  type AuthorizationPrompt,
  authorize,
  type Grant,
  storedGrantOf,
} from "../provider/oauth/authorize.js";
import type { SandboxOP } from "./op.js";

/**
 * The `auth` a declaration writes for the sandbox OP's public native client (device flow unless
 * overridden), as the user writes it.
 * @example
 * const auth = sandboxDeclaredAuth(op, { flow: "loopback", refreshToken: { file: "grant.json" } });
 */
export function sandboxDeclaredAuth(
  op: SandboxOP,
  overrides: Partial<OAuthAuthentication> = {},
): OAuthAuthentication & { clientId: string; scopes: string[]; flow: "device" | "loopback" } {
  return {
    method: "oauth",
    issuer: op.issuer,
    clientId: op.clients.native.clientId,
    scopes: ["openid", "email", "offline_access"],
    flow: "device",
    ...overrides,
  } as OAuthAuthentication & { clientId: string; scopes: string[]; flow: "device" | "loopback" };
}

/** The same setting normalized (what normalizeDeclaration gives: no preset, the OP rotates refresh tokens). */
export function sandboxAuth(
  op: SandboxOP,
  overrides: Partial<NormalizedOAuthAuth> = {},
): NormalizedOAuthAuth {
  const { refreshToken: _none, ...declared } = sandboxDeclaredAuth(op);
  return {
    ...declared,
    authorizationParams: {},
    rotatesRefreshTokens: true,
    usernameClaims: ["email"],
    ...overrides,
  };
}

export interface SandboxGrantOptions {
  /** The flow to run (default device). */
  flow?: "device" | "loopback";
  /** Other normalized settings (a client, scopes). */
  auth?: Partial<NormalizedOAuthAuth>;
  clientSecret?: string;
}

/**
 * Authorizes at the sandbox OP and approves on its real pages: the device code as shown, or the
 * loopback authorization URL (no browser). A failed approval fails the grant at once instead of
 * leaving authorize() waiting for the code to expire.
 * @example
 * const { refreshToken } = await sandboxGrant(op, { flow: "loopback" });
 * @see https://www.rfc-editor.org/rfc/rfc8628 device flow; https://www.rfc-editor.org/rfc/rfc8252 loopback
 */
export async function sandboxGrant(op: SandboxOP, options: SandboxGrantOptions = {}): Promise<Grant> {
  const controller = new AbortController();
  let failure: unknown;
  const approving = (approval: Promise<unknown>) =>
    void approval.catch((error: unknown) => {
      failure ??= error;
      controller.abort(error);
    });
  try {
    return await authorize(sandboxAuth(op, { flow: options.flow ?? "device", ...options.auth }), {
      ...(options.clientSecret !== undefined && { clientSecret: options.clientSecret }),
      noBrowser: true,
      signal: controller.signal,
      prompt: (shown: AuthorizationPrompt) =>
        approving(
          shown.kind === "device"
            ? op.approveDeviceCode(shown.userCode)
            : op.approveAuthorization(shown.authorizationUrl),
        ),
    });
  } catch (error) {
    throw failure ?? error;
  }
}

/**
 * A grant from {@link sandboxGrant} written to `path` as `mailserver authorize --out` writes it
 * (JSON, mode 0600); returns the refresh token.
 */
export async function writeSandboxGrant(
  op: SandboxOP,
  path: string,
  options: SandboxGrantOptions = {},
): Promise<string> {
  const grant = await sandboxGrant(op, options);
  await writePrivateFileAtomically(path, `${JSON.stringify(storedGrantOf(grant), null, 2)}\n`);
  return grant.refreshToken;
}
