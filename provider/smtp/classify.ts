import type { NormalizedCustomDeclaration } from "../declaration/normalize.js";
import { isAppOnlyFlow } from "../declaration/normalize.js";
import { type ErrorCode, isMailServerError, MailServerError } from "../errors.js";
import { knownReply } from "./replies.js";

/** Where in the session a failure happened: it decides the wording, not the code. */
export type SmtpStage = "connect" | "auth" | "send";

/** The fields nodemailer puts on its errors (see nodemailer's errors.ts). */
interface NodemailerFailure extends Error {
  host?: string;
  cert?: { subjectaltname?: string };
  code?: string;
  originalCode?: string;
  response?: string;
  responseCode?: number;
  command?: string;
  timeoutType?: string;
  reason?: string;
  xoauth2Status?: string;
  xoauth2Scope?: string;
  xoauth2Schemes?: string;
}

export interface ClassifyContext {
  decl: NormalizedCustomDeclaration;
  stage: SmtpStage;
  /** The SMTP username, for messages (never the secret). */
  username?: string;
}

/**
 * TLS failures people meet, by Node/OpenSSL error code and, for a STARTTLS upgrade (where
 * nodemailer keeps only the message of the original error), by OpenSSL's stable message text.
 */
const TLS_REASONS: ReadonlyArray<{
  codes: string[];
  text: RegExp;
  reason: (detail: string) => string;
  remedy: string;
}> = [
  {
    codes: ["CERT_HAS_EXPIRED"],
    text: /certificate has expired/i,
    reason: () => "the server's certificate has expired",
    remedy: "The server's operator must renew its certificate. Certificate checks cannot be switched off.",
  },
  {
    codes: ["CERT_NOT_YET_VALID"],
    text: /certificate is not yet valid/i,
    reason: () => "the server's certificate is not valid yet",
    remedy: "Check this machine's clock, or wait until the certificate's notBefore.",
  },
  {
    codes: ["ERR_TLS_CERT_ALTNAME_INVALID"],
    text: /does not match certificate's altnames/i,
    reason: (detail) => `the server's certificate is for another host (${detail})`,
    remedy:
      "Use the host name the certificate is for as smtp.host, or set smtp.tls.servername when smtp.host is an IP address.",
  },
  {
    codes: ["DEPTH_ZERO_SELF_SIGNED_CERT", "SELF_SIGNED_CERT_IN_CHAIN"],
    text: /self[- ]signed certificate/i,
    reason: () => "the server's certificate is self-signed and not trusted",
    remedy:
      "Put the certificate (or its CA) in a PEM file next to the declaration and reference it as smtp.tls.ca.file. Certificate checks cannot be switched off.",
  },
  {
    codes: [
      "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
      "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
      "UNABLE_TO_GET_ISSUER_CERT",
    ],
    text: /unable to (verify the first certificate|get local issuer certificate|get issuer certificate)/i,
    reason: () => "the server's certificate was issued by a CA this machine does not trust",
    remedy:
      "Put the CA's certificate in a PEM file next to the declaration and reference it as smtp.tls.ca.file (or have the server send its intermediate certificates).",
  },
  {
    codes: ["ERR_SSL_WRONG_VERSION_NUMBER", "ERR_SSL_PACKET_LENGTH_TOO_LONG", "ERR_SSL_HTTP_REQUEST"],
    text: /wrong version number|packet length too long|http request/i,
    reason: () => "the server did not answer with TLS: the port speaks plain SMTP",
    remedy:
      "Use protocol: starttls for this port (usually 587), or the server's implicit-TLS port (usually 465).",
  },
];

/** Finds the certificate or handshake reason of a TLS failure, and its remedy, if it is one. */
function tlsReason(error: {
  code?: string;
  originalCode?: string;
  message?: string;
  reason?: string;
  host?: string;
  cert?: { subjectaltname?: string };
}): { reason: string; remedy?: string } | undefined {
  const code = error.originalCode ?? error.code ?? "";
  const message = error.message ?? "";
  for (const entry of TLS_REASONS) {
    if (entry.codes.includes(code) || entry.text.test(message)) {
      // Node puts the peer certificate on a host-name mismatch (not through a STARTTLS upgrade).
      const detail =
        error.cert?.subjectaltname && error.host
          ? `it names ${error.cert.subjectaltname}, not ${error.host}`
          : (error.reason ?? /altnames: (.*)$/i.exec(message)?.[1] ?? "no name matches").replace(
              /[\s:]+$/,
              "",
            );
      return { reason: entry.reason(detail), remedy: entry.remedy };
    }
  }
  if (code.startsWith("ERR_SSL_") || code.startsWith("ERR_TLS_") || error.code === "ETLS") {
    return { reason: `the TLS handshake failed: ${message.replace(/^Error initiating TLS - /, "")}` };
  }
  return undefined;
}

/** Resolver failures: the host name does not resolve (as opposed to a server that does not answer). */
const DNS_CODES = new Set(["ENOTFOUND", "EAI_AGAIN", "EAI_NONAME", "EAI_NODATA", "EAI_FAIL"]);

const CONNECT_CODES: Record<string, string> = {
  ECONNREFUSED: "refused the connection",
  ECONNRESET: "reset the connection",
  EHOSTUNREACH: "is unreachable (no route to host)",
  ENETUNREACH: "is unreachable (network unreachable)",
  EPIPE: "closed the connection",
};

/**
 * Turns what nodemailer reports into a {@link MailServerError} with one of the stable codes: dns,
 * connect, timeout, tls, starttls-unavailable, auth-mechanism-unsupported, auth-rejected,
 * recipient-rejected, send-failed. Known vendor replies get their remedy (see replies.ts).
 * A MailServerError passes through unchanged.
 */
export function classifySmtpFailure(error: unknown, context: ClassifyContext): MailServerError {
  if (isMailServerError(error)) return error;
  const failure = (error ?? {}) as NodemailerFailure;
  const { smtp } = context.decl;
  const where = `${smtp.host}:${smtp.port}`;
  const response = typeof failure.response === "string" ? failure.response.trim() : undefined;
  const smtpCode =
    failure.responseCode ?? (response ? Number(/^(\d{3})/.exec(response)?.[1]) || undefined : undefined);
  const make = (code: ErrorCode, message: string, field?: string, remedy?: string, details: object = {}) =>
    new MailServerError(code, message, {
      ...(field && { field }),
      ...(remedy && { remedy }),
      details: { ...(smtpCode !== undefined && { smtpCode }), ...details },
      cause: error,
    });

  // Node's own resolver codes (a socket opened by connect.ts) mean what nodemailer's EDNS means.
  const resolverCode = failure.code && DNS_CODES.has(failure.code) ? failure.code : undefined;
  switch (resolverCode ? "EDNS" : failure.code) {
    case "EDNS":
      return make(
        "dns",
        `smtp.host ${smtp.host} does not resolve (${resolverCode ?? failure.originalCode ?? "no address"})`,
        "smtp.host",
      );
    case "ETIMEDOUT":
      return timeoutFailure(failure, context, where, make);
    case "ETLS":
    case "ECONNECTION":
      if (
        (failure.command === "STARTTLS" && response) ||
        /does not support required STARTTLS/.test(failure.message)
      ) {
        return make(
          "starttls-unavailable",
          `${where} does not offer STARTTLS${response ? ` (it answered "${response}")` : ""}; no credential was sent`,
          "smtp.protocol",
        );
      }
      break;
    case "EAUTH": {
      const who = context.username ? ` of ${context.username}` : "";
      const reply = response ?? "no reply";
      const challenge = xoauth2Challenge(failure);
      const lacking = scopeNotGranted(failure.xoauth2Scope, context.decl);
      const appOnly = context.decl.auth.method === "oauth" && isAppOnlyFlow(context.decl.auth.flow);
      const known = response ? knownReply(response, context.decl.vendor, appOnly) : undefined;
      return make(
        "auth-rejected",
        `${where} rejected the login${who}${challenge}: ${reply}`,
        lacking ? "auth.scopes" : "auth",
        lacking
          ? `Add ${lacking} to auth.scopes, then run \`mailserver authorize FILE --out FILE.json\` for a grant with it (the server needs that scope; the current grant lacks it).`
          : known?.remedy,
        {
          ...(failure.xoauth2Status && { xoauth2Status: failure.xoauth2Status }),
          ...(failure.xoauth2Scope && { xoauth2Scope: failure.xoauth2Scope }),
        },
      );
    }
    case "EENVELOPE":
    case "EMESSAGE": {
      const known = response ? knownReply(response, context.decl.vendor) : undefined;
      const recipient = failure.command === "RCPT TO";
      return recipient
        ? make(
            "recipient-rejected",
            `${where} rejected the recipient: ${response ?? failure.message}`,
            "testEmail.to",
            known?.remedy,
          )
        : make(
            "send-failed",
            `${where} did not accept the message (${failure.command ?? "DATA"}): ${response ?? failure.message}`,
            "from.address",
            known?.remedy,
          );
    }
    case "EPROTOCOL":
      return make("connect", `${where} does not speak SMTP: ${response ?? failure.message}`, "smtp.port");
  }

  const tls = tlsReason(failure);
  if (tls)
    return make("tls", `TLS with ${where} failed: ${tls.reason}`, "smtp.tls", tls.remedy, {
      reason: tls.reason,
    });
  const systemCode = failure.originalCode ?? failure.code ?? "";
  const refused = CONNECT_CODES[systemCode];
  if (refused) return make("connect", `${where} ${refused} (${systemCode})`, "smtp.port");
  if (failure.code === "ECONNECTION" || failure.code === "ESOCKET") {
    const during = { connect: "before the session was set up", auth: "during AUTH", send: "while sending" }[
      context.stage
    ];
    const reply = response ? `: ${response}` : "";
    return make("connect", `${where} closed the connection ${during}${reply}`, "smtp.host");
  }
  return make(
    "connect",
    `the SMTP session with ${where} failed: ${failure.message ?? String(error)}`,
    "smtp.host",
  );
}

/** The XOAUTH2 error challenge's facts for the message: ` (XOAUTH2 status 400; the server needs the scope S)`. */
function xoauth2Challenge(failure: NodemailerFailure): string {
  const parts = [
    failure.xoauth2Status && `XOAUTH2 status ${failure.xoauth2Status}`,
    failure.xoauth2Scope && `the server needs the scope ${failure.xoauth2Scope}`,
    failure.xoauth2Schemes && `schemes ${failure.xoauth2Schemes}`,
  ].filter(Boolean);
  return parts.length > 0 ? ` (${parts.join("; ")})` : "";
}

/** The scope the server named, when the declaration's OAuth scopes do not include it. */
function scopeNotGranted(scope: string | undefined, decl: NormalizedCustomDeclaration): string | undefined {
  if (!scope || decl.auth.method !== "oauth") return undefined;
  const declared = new Set(decl.auth.scopes.map((s) => s.toLowerCase()));
  return (
    scope
      .split(/\s+/)
      .filter((needed) => needed && !declared.has(needed.toLowerCase()))
      .join(" ") || undefined
  );
}

function timeoutFailure(
  failure: NodemailerFailure,
  context: ClassifyContext,
  where: string,
  make: (code: ErrorCode, message: string, field?: string, remedy?: string) => MailServerError,
): MailServerError {
  const { timeouts, protocol } = context.decl.smtp;
  switch (failure.timeoutType) {
    case "CONNECT_TIMEOUT":
      return make(
        "timeout",
        `no connection to ${where} within ${timeouts.connectionMs} ms`,
        "smtp.timeouts.connectionMs",
      );
    case "GREETING_TIMEOUT":
      return make(
        "timeout",
        `${where} accepted the connection but sent no greeting within ${timeouts.greetingMs} ms`,
        "smtp.timeouts.greetingMs",
        protocol === "starttls"
          ? "An implicit-TLS port (usually 465) says nothing to a plain client: use protocol: tls for it, or check smtp.port."
          : undefined,
      );
    case "UPGRADE_TIMEOUT":
      return make(
        "timeout",
        `the TLS handshake with ${where} did not finish in time`,
        "smtp.timeouts.greetingMs",
      );
    default:
      return make(
        "timeout",
        `${where} stopped answering for ${timeouts.socketMs} ms`,
        "smtp.timeouts.socketMs",
      );
  }
}
