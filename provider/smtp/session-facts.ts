/** What an open SMTP session shows: its TLS session and certificate, and the AUTH mechanisms offered. */
import type { TLSSocket } from "node:tls";
import type SMTPConnection from "nodemailer/lib/smtp-connection";

/** What the TLS session showed: reported by verify and observed by drift. */
export interface TlsFacts {
  /** `TLSv1.3` */
  version: string;
  /** `TLS_AES_256_GCM_SHA384` */
  cipher: string;
  /** The certificate's subject, `CN=smtp.example.com, O=Example` */
  subject: string;
  issuer: string;
  /** SHA-256 fingerprint, colon-separated hex, as Node prints it. */
  fingerprint256: string;
  /** notAfter, ISO 8601. */
  validTo: string;
  /** Whole days until notAfter (negative once expired). */
  daysLeft: number;
}

/** Nodemailer's connection as this module uses it; `_ehloLines` is the only internal field read. */
export type Connection = SMTPConnection & { _ehloLines?: string[]; _socket: unknown };

const DAY_MS = 86_400_000;

/** The TLS facts of the session, or null when it is not (yet) encrypted. */
export function tlsFacts(connection: Connection, now: Date): TlsFacts | null {
  const socket = connection._socket as TLSSocket | undefined;
  if (!connection.secure || !socket || typeof socket.getPeerCertificate !== "function") return null;
  const certificate = socket.getPeerCertificate();
  const validTo = new Date(certificate.valid_to);
  return {
    version: socket.getProtocol() ?? "unknown",
    cipher: socket.getCipher()?.name ?? "unknown",
    subject: distinguishedName(certificate.subject),
    issuer: distinguishedName(certificate.issuer),
    fingerprint256: certificate.fingerprint256,
    validTo: validTo.toISOString(),
    daysLeft: Math.floor((validTo.getTime() - now.getTime()) / DAY_MS),
  };
}

function distinguishedName(name: object | undefined): string {
  if (!name) return "";
  return Object.entries(name as Record<string, string | string[]>)
    .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join("+") : value}`)
    .join(", ");
}

/** AUTH mechanisms from the EHLO lines (all of them, not only those nodemailer knows). */
export function offeredMechanisms(connection: Connection): string[] {
  const mechanisms = new Set<string>();
  for (const line of connection._ehloLines ?? []) {
    const match = /^AUTH[\s=](.*)$/i.exec(line);
    if (match?.[1])
      for (const name of match[1].trim().split(/[\s=]+/)) if (name) mechanisms.add(name.toUpperCase());
  }
  return [...mechanisms];
}
