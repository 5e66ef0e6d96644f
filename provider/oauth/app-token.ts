/**
 * The app-only flows' one entry point: reads the credentials the declaration references (client
 * secret or client assertion key; service account key) and runs the flow's grant. Used by verify,
 * test-email, drift, authorize and the Pulumi lifecycle; the token is fetched each time it is
 * needed and never stored.
 */
import type { NormalizedOAuthAuth } from "../declaration/normalize.js";
import { describeSecretReference, type SecretResolver } from "../declaration/secrets.js";
import { MailServerError } from "../errors.js";
import { loadClientAssertionKey } from "./client-assertion.js";
import { type AppToken, clientCredentialsGrant } from "./client-credentials.js";
import type { DiscoverOptions } from "./discover.js";
import { jwtBearerGrant } from "./jwt-bearer.js";
import { parseServiceAccountKey } from "./service-account-key.js";

export type { AppToken } from "./client-credentials.js";

export interface ObtainAppTokenOptions extends DiscoverOptions {
  /** Folder of the declaration: `file` references (keys, certificates) are relative to it. */
  baseDir: string;
  /** Resolves auth.clientSecret and auth.serviceAccountKey. */
  secret: SecretResolver;
  /** The client secret instead of auth.clientSecret's (the provider: the one in state). */
  clientSecret?: string;
  now?: () => Date;
}

/**
 * Obtains an app token for `auth` (flow client-credentials or service-account).
 * @throws MailServerError `app-token-refused`, `client-key-invalid`, `service-account-key-invalid`,
 *   `secret-unresolved`, `issuer-unreachable`, `issuer-timeout`
 * @example
 * const token = await obtainAppToken(auth, { baseDir, secret: secretResolver({ baseDir }) });
 * @see RFC 6749 section 4.4; RFC 7523 sections 2.1 and 2.2
 */
export async function obtainAppToken(
  auth: NormalizedOAuthAuth,
  options: ObtainAppTokenOptions,
): Promise<AppToken> {
  const network = {
    ...(options.fetch && { fetch: options.fetch }),
    ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
  };
  if (auth.flow === "service-account") {
    const ref = auth.serviceAccountKey;
    if (!ref) throw new TypeError("flow service-account needs auth.serviceAccountKey: validate it first");
    const text = await options.secret(ref, "auth.serviceAccountKey");
    const key = await parseServiceAccountKey(
      text,
      `auth.serviceAccountKey (${describeSecretReference(ref)})`,
    );
    return jwtBearerGrant(auth, { key, ...network, ...(options.now && { now: options.now }) });
  }
  if (auth.flow !== "client-credentials")
    throw new TypeError(`obtainAppToken runs the app-only flows, not flow ${auth.flow}`);
  const clientSecret =
    options.clientSecret ??
    (auth.clientSecret ? await options.secret(auth.clientSecret, "auth.clientSecret") : undefined);
  const clientAssertion = auth.clientAssertion
    ? await loadClientAssertionKey(auth.clientAssertion, options.baseDir)
    : undefined;
  if (clientSecret === undefined && !clientAssertion) {
    throw new MailServerError(
      "declaration-invalid",
      "flow client-credentials needs auth.clientSecret or auth.clientAssertion",
      { field: "auth.clientSecret" },
    );
  }
  return clientCredentialsGrant(auth, {
    ...(clientAssertion ? { clientAssertion } : { clientSecret: clientSecret as string }),
    ...network,
  });
}
