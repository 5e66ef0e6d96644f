/**
 * The `transport` output: nodemailer SMTP options that applications pass to
 * `nodemailer.createTransport`, with the same TLS rules as verification (certificates always
 * checked, STARTTLS required). For OAuth it is XOAUTH2 with the refresh token, so nodemailer
 * refreshes access tokens itself. A Pulumi secret.
 * @see https://nodemailer.com/smtp/oauth2/
 */
import { readFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import type { NormalizedCustomDeclaration } from "../declaration/normalize.js";
import type { MailServerState } from "./state.js";

export function transportOf(
  declaration: NormalizedCustomDeclaration,
  state: MailServerState,
  baseDir: string,
): Record<string, unknown> {
  const { smtp } = declaration;
  const tls: Record<string, unknown> = {};
  if (smtp.caFile) {
    const path = isAbsolute(smtp.caFile) ? smtp.caFile : resolve(baseDir, smtp.caFile);
    tls.ca = readFileSync(path, "utf8");
  }
  if (smtp.servername) tls.servername = smtp.servername;
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
  return {
    host: smtp.host,
    port: smtp.port,
    secure: smtp.protocol === "tls",
    requireTLS: smtp.protocol === "starttls",
    ...(Object.keys(tls).length > 0 && { tls }),
    auth,
    connectionTimeout: smtp.timeouts.connectionMs,
    greetingTimeout: smtp.timeouts.greetingMs,
    socketTimeout: smtp.timeouts.socketMs,
  };
}
