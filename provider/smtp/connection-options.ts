/** The nodemailer options for a declaration: those of our own session, and those handed to applications. */
import { isIP } from "node:net";
import type { SMTPConnectionOptions } from "nodemailer/lib/smtp-connection";
import type { NormalizedCustomDeclaration } from "../declaration/normalize.js";
import { trustingSecureContext } from "./trust-anchors.js";

/**
 * The nodemailer connection options for a declaration: implicit TLS (`secure`) for protocol tls,
 * required STARTTLS (`requireTLS`) for starttls, certificate checks always on (there is no
 * option to switch them off), TLS 1.2 at least, smtp.tls.ca added to the trust anchors, the
 * declared server name and timeouts.
 * @see https://www.rfc-editor.org/rfc/rfc8314 implicit TLS
 * @see https://www.rfc-editor.org/rfc/rfc3207 STARTTLS
 */
export function smtpConnectionOptions(
  decl: NormalizedCustomDeclaration,
  extraCaPem: string | undefined,
  clientName?: string,
): SMTPConnectionOptions {
  const servername = serverName(decl);
  return {
    ...plainOptions(decl),
    ...(clientName && { name: clientName }),
    logger: false,
    tls: {
      rejectUnauthorized: true,
      secureContext: trustingSecureContext(extraCaPem),
      ...(servername && { servername }),
    },
  };
}

/**
 * Options for `nodemailer.createTransport` that applications use to send through this setting,
 * without `auth` (the caller adds it): the session's TLS rules (certificate checks on, TLS 1.2 at
 * least, the server name), as plain data that can be stored in Pulumi state and handed over.
 * With smtp.tls.ca the options trust that CA only: Node's `ca` replaces the default CAs, and the
 * whole system store (some 140 certificates, 220 KB) would swell every resource's state; the
 * declared CA is the one that signs a private server's certificate.
 */
export function smtpTransportOptions(
  decl: NormalizedCustomDeclaration,
  extraCaPem?: string,
): SMTPConnectionOptions {
  const servername = serverName(decl);
  return {
    ...plainOptions(decl),
    tls: {
      rejectUnauthorized: true,
      minVersion: "TLSv1.2",
      ...(servername && { servername }),
      ...(extraCaPem && { ca: extraCaPem }),
    },
  };
}

/** What the session and the transport share: server, TLS mode and timeouts, as plain data. */
function plainOptions(decl: NormalizedCustomDeclaration): SMTPConnectionOptions {
  const { smtp } = decl;
  return {
    host: smtp.host,
    port: smtp.port,
    secure: smtp.protocol === "tls",
    // requireTLS: a STARTTLS that is missing or fails ends the session before AUTH; a client
    // that does not insist can be downgraded by anyone who strips the capability.
    requireTLS: smtp.protocol === "starttls",
    connectionTimeout: smtp.timeouts.connectionMs,
    greetingTimeout: smtp.timeouts.greetingMs,
    socketTimeout: smtp.timeouts.socketMs,
    dnsTimeout: smtp.timeouts.connectionMs,
  };
}

/** The name the certificate must carry: smtp.tls.servername, else smtp.host unless it is an IP. */
function serverName(decl: NormalizedCustomDeclaration): string | undefined {
  return decl.smtp.servername ?? (isIP(decl.smtp.host) === 0 ? decl.smtp.host : undefined);
}
