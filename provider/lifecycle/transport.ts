/**
 * The `transport` output: nodemailer SMTP options that applications pass to
 * `nodemailer.createTransport`, with the same TLS rules as verification (smtpTransportOptions:
 * certificates always checked, smtp.tls.ca added to the system's CAs, STARTTLS required). For OAuth
 * it is XOAUTH2 with the refresh token, so nodemailer refreshes access tokens itself. A service
 * account gives nodemailer its key (`serviceClient`, `privateKey`: nodemailer signs the JWT bearer
 * grant itself); client credentials give only the user, since nodemailer has no client credentials
 * grant: the application supplies tokens (nodemailer's `provisionCallback`). A Pulumi secret.
 * @see https://nodemailer.com/smtp/oauth2/
 */
import type { NormalizedCustomDeclaration } from "../declaration/normalize.js";
import { smtpTransportOptions } from "../smtp/connection-options.js";
import { readExtraTrustAnchors } from "../smtp/trust-anchors.js";
import type { MailServerState } from "./state.js";

export async function transportOf(
  declaration: NormalizedCustomDeclaration,
  state: MailServerState,
  baseDir: string,
  /** Flow service-account: the JSON key's text (already checked by the grant). */
  serviceAccountKey?: string,
): Promise<Record<string, unknown>> {
  const auth =
    declaration.auth.method === "basic"
      ? { user: state.username, pass: state.password }
      : declaration.auth.flow === "client-credentials"
        ? { type: "OAuth2", user: state.username }
        : serviceAccountKey
          ? serviceAccountAuth(serviceAccountKey, state.username, declaration.auth.scopes)
          : {
              type: "OAuth2",
              user: state.username,
              clientId: declaration.auth.clientId,
              ...(state.clientSecret !== undefined && { clientSecret: state.clientSecret }),
              refreshToken: state.refreshToken,
              ...(state.endpoints?.token && { accessUrl: state.endpoints.token }),
            };
  return { ...smtpTransportOptions(declaration, await readExtraTrustAnchors(declaration, baseDir)), auth };
}

/** nodemailer's service account options (its XOAUTH2 signs the JWT bearer grant with the key). */
function serviceAccountAuth(keyJson: string, user: string | undefined, scopes: string[]) {
  const key = JSON.parse(keyJson) as { client_email: string; private_key: string; token_uri: string };
  return {
    type: "OAuth2",
    user,
    serviceClient: key.client_email,
    privateKey: key.private_key,
    accessUrl: key.token_uri,
    scope: scopes.join(" "),
  };
}
