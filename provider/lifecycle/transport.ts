/**
 * The `transport` output: nodemailer SMTP options that applications pass to
 * `nodemailer.createTransport`, with the same TLS rules as verification (smtpTransportOptions:
 * certificates always checked, smtp.tls.ca added to the system's CAs, STARTTLS required). For OAuth
 * it is XOAUTH2 with the refresh token, so nodemailer refreshes access tokens itself. A Pulumi secret.
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
): Promise<Record<string, unknown>> {
  const auth =
    declaration.auth.method === "basic"
      ? { user: state.username, pass: state.password }
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
