/**
 * The sandbox OP's app-only clients, which need no person:
 * - `mailserver-app`: client credentials with a client secret (client_secret_post);
 * - `mailserver-app-certificate`: client credentials with a client assertion (private_key_jwt)
 *   whose header must carry the registered certificate's thumbprint (`x5t`), as Microsoft's
 *   certificate credentials do;
 * - a service account with a JSON key like Google's, for the JWT bearer grant (RFC 7523 section
 *   2.1), registered on the OP with `provider.registerGrantType`: it checks the signature against
 *   the registered key, `iss`, `aud` (the token endpoint), `exp` (at most one hour after `iat`),
 *   the scope, and that `sub` is a mailbox the service account may act as.
 * Which mailbox each app may send as (`mailboxes`, like Exchange's mailbox permission and
 * Workspace's domain-wide delegation) is what the sandbox SMTP server checks.
 */
import { createPublicKey, X509Certificate } from "node:crypto";
import { importSPKI, jwtVerify } from "jose";
import type { KoaContext } from "oidc-provider";
import { createThrowawayCA } from "./ca.js";

export const JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/** The mailbox the sandbox's apps may send as (by default the only one). */
export const SANDBOX_APP_MAILBOX = "no-reply@sandbox.test";

/** The scope the sandbox's apps are granted (what `.default` or `https://mail.google.com/` are at the vendors). */
const SANDBOX_APP_SCOPE = "mail.send";

export interface SandboxApps {
  /** Client credentials with a secret. */
  secret: { clientId: string; clientSecret: string };
  /** Client credentials with a client assertion: the key and the certificate registered for it (PEM). */
  certificate: { clientId: string; privateKeyPem: string; certificatePem: string };
  /** A service account: its JSON key as the vendor's console downloads it. */
  serviceAccount: { clientId: string; clientEmail: string; keyJson: string };
  /** The scope to request. */
  scope: string;
  /**
   * The mailboxes each app may send as, by client ID (a service account: by its address). Mutable:
   * tests take a permission away to see the refusal.
   */
  mailboxes: Record<string, string[]>;
}

/** Creates the apps' credentials for an OP at `url` (the token endpoint is `${url}/token`). */
export function createSandboxApps(url: string, secret: () => string): SandboxApps {
  // One throwaway key pair serves the certificate app and the service account; its certificate
  // is self-signed, as the certificates uploaded to an app registration usually are.
  const issued = createThrowawayCA({ commonName: "sandbox app CA" }).issue({
    selfSigned: true,
    commonName: "mailserver-app-certificate",
    hosts: ["mailserver-app.sandbox.test"],
  });
  const clientEmail = "mailer@sandbox-project.iam.gserviceaccount.test";
  const serviceAccountId = "100000000000000000001";
  const apps: SandboxApps = {
    secret: { clientId: "mailserver-app", clientSecret: secret() },
    certificate: {
      clientId: "mailserver-app-certificate",
      privateKeyPem: issued.keyPem,
      certificatePem: issued.certPem,
    },
    serviceAccount: {
      clientId: serviceAccountId,
      clientEmail,
      keyJson: `${JSON.stringify(
        {
          type: "service_account",
          project_id: "sandbox-project",
          private_key_id: "sandbox-service-account-key",
          private_key: issued.keyPem,
          client_email: clientEmail,
          client_id: serviceAccountId,
          token_uri: `${url}/token`,
        },
        null,
        2,
      )}\n`,
    },
    scope: SANDBOX_APP_SCOPE,
    mailboxes: {},
  };
  apps.mailboxes[apps.secret.clientId] = [SANDBOX_APP_MAILBOX];
  apps.mailboxes[apps.certificate.clientId] = [SANDBOX_APP_MAILBOX];
  apps.mailboxes[clientEmail] = [SANDBOX_APP_MAILBOX];
  return apps;
}

/** base64url SHA-1 thumbprint of a PEM certificate (`x5t`, RFC 7515 section 4.1.7). */
function thumbprintOf(certificatePem: string): string {
  return Buffer.from(new X509Certificate(certificatePem).fingerprint.replace(/:/g, ""), "hex").toString(
    "base64url",
  );
}

/** The apps' client registrations for oidc-provider. */
export function appClients(apps: SandboxApps): Record<string, unknown>[] {
  const publicJwk = createPublicKey(apps.certificate.privateKeyPem).export({ format: "jwk" });
  return [
    {
      client_id: apps.secret.clientId,
      client_secret: apps.secret.clientSecret,
      token_endpoint_auth_method: "client_secret_post",
      grant_types: ["client_credentials"],
      redirect_uris: [],
      response_types: [],
      scope: apps.scope,
    },
    {
      client_id: apps.certificate.clientId,
      token_endpoint_auth_method: "private_key_jwt",
      token_endpoint_auth_signing_alg: "RS256",
      jwks: { keys: [{ ...publicJwk, use: "sig", x5t: thumbprintOf(apps.certificate.certificatePem) }] },
      grant_types: ["client_credentials"],
      redirect_uris: [],
      response_types: [],
      scope: apps.scope,
    },
    {
      // Google needs no client authentication for the JWT bearer grant; oidc-provider needs the client named.
      client_id: apps.serviceAccount.clientId,
      token_endpoint_auth_method: "none",
      grant_types: [JWT_BEARER_GRANT],
      redirect_uris: [],
      response_types: [],
      scope: apps.scope,
    },
  ];
}

/**
 * Microsoft checks the certificate thumbprint in a client assertion's header; so does the sandbox
 * for the certificate app (oidc-provider's `assertJwtClientAuthClaimsAndHeader` hook).
 */
export function assertCertificateThumbprint(
  apps: SandboxApps,
  // oidc-provider's error class for a refused client authentication.
  InvalidClientAuth: new (detail: string) => Error,
) {
  const expected = thumbprintOf(apps.certificate.certificatePem);
  return (_ctx: unknown, _claims: unknown, header: Record<string, unknown>, client: { clientId: string }) => {
    if (client.clientId === apps.certificate.clientId && header.x5t !== expected)
      throw new InvalidClientAuth(
        "the client assertion's x5t is not the thumbprint of a registered certificate",
      );
  };
}

const SHORT_LIVED =
  "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.";

interface ProviderErrors {
  /** An OAuth error with its description, as the token endpoint answers it. */
  CustomOIDCProviderError: new (
    error: string,
    description: string,
  ) => Error;
}

interface GrantContext extends KoaContext {
  oidc: {
    params: Record<string, unknown>;
    client: { clientId: string };
    provider: {
      AccessToken: new (fields: Record<string, unknown>) => { save(): Promise<string>; expiration: number };
    };
  };
}

/**
 * The JWT bearer grant's handler: Google's answers to the same mistakes (`invalid_grant` for a
 * bad or expired JWT or a mailbox outside the delegation, `unauthorized_client` for a scope that
 * was not delegated).
 */
export function jwtBearerGrantHandler(apps: SandboxApps, tokenEndpoint: string, errors: ProviderErrors) {
  const publicKey = importSPKI(
    createPublicKey(apps.certificate.privateKeyPem).export({ format: "pem", type: "spki" }) as string,
    "RS256",
  );
  // oidc-provider calls a grant handler with the context only: it is the last step of the request.
  return async (ctx: GrantContext) => {
    const { assertion } = ctx.oidc.params;
    if (ctx.oidc.client.clientId !== apps.serviceAccount.clientId)
      throw new errors.CustomOIDCProviderError(
        "unauthorized_client",
        "this client may not use the JWT bearer grant",
      );
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(String(assertion), await publicKey, {
        issuer: apps.serviceAccount.clientEmail,
        audience: tokenEndpoint,
        algorithms: ["RS256"],
        requiredClaims: ["iat", "exp", "sub"],
      }));
    } catch (error) {
      const code = (error as { code?: string }).code;
      throw new errors.CustomOIDCProviderError(
        "invalid_grant",
        code === "ERR_JWT_EXPIRED" ? SHORT_LIVED : `Invalid JWT Signature or claims (${code ?? "invalid"})`,
      );
    }
    if (Number(payload.exp) - Number(payload.iat) > 3600)
      throw new errors.CustomOIDCProviderError("invalid_grant", SHORT_LIVED);
    const sub = String(payload.sub);
    const mailboxes = apps.mailboxes[apps.serviceAccount.clientEmail] ?? [];
    if (!mailboxes.some((mailbox) => mailbox.toLowerCase() === sub.toLowerCase()))
      throw new errors.CustomOIDCProviderError("invalid_grant", "Invalid email or User ID");
    const scope = typeof payload.scope === "string" ? payload.scope : "";
    if (scope !== apps.scope)
      throw new errors.CustomOIDCProviderError(
        "unauthorized_client",
        "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.",
      );
    const token = new ctx.oidc.provider.AccessToken({
      accountId: sub,
      client: ctx.oidc.client,
      scope,
      gty: "jwt-bearer",
    });
    ctx.body = {
      access_token: await token.save(),
      token_type: "Bearer",
      expires_in: token.expiration,
      scope,
    };
  };
}
