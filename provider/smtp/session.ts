import { readFile } from "node:fs/promises";
import { isIP, type LookupFunction } from "node:net";
import { resolve } from "node:path";
import { createSecureContext, rootCertificates, type SecureContext, type TLSSocket } from "node:tls";
import type SMTPConnection from "nodemailer/lib/smtp-connection";
import type { SMTPConnectionOptions, SMTPConnectionSendInfo } from "nodemailer/lib/smtp-connection";
import type { NormalizedCustomDeclaration } from "../declaration/normalize.js";
import { MailServerError } from "../errors.js";
import { classifySmtpFailure, type SmtpStage } from "./classify.js";
import { connectSocket, earlyError } from "./connect.js";
import { authenticateXOAuth2 } from "./xoauth2.js";

/** What the SMTP login uses: a password (AUTH PLAIN/LOGIN) or an OAuth access token (AUTH XOAUTH2). */
export type SmtpCredentials =
  | { method: "basic"; username: string; password: string }
  | { method: "oauth"; username: string; accessToken: string };

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

export interface SmtpSessionOptions {
  /** Folder of the declaration: smtp.tls.ca is relative to it (default: the current folder). */
  baseDir?: string;
  /** The name sent with EHLO (default: nodemailer's, from the machine's host name). */
  clientName?: string;
  /** The clock, for daysLeft. */
  now?: () => Date;
  /** The host name resolver (default: the system's, as net.connect uses it). */
  lookup?: LookupFunction;
}

/** Nodemailer's connection as this module uses it; `_ehloLines` is the only internal field read. */
type Connection = SMTPConnection & { _ehloLines?: string[]; _socket: unknown };

const DAY_MS = 86_400_000;

/**
 * The name our XOAUTH2 handler is registered under. Not "XOAUTH2": nodemailer's login() treats
 * method XOAUTH2 without its own token generator as "pick any mechanism" and would send the access
 * token as a PLAIN password; a custom method name runs exactly our handler, which speaks XOAUTH2.
 */
const XOAUTH2_HANDLER = "MAILSERVER-XOAUTH2";

/** Reads smtp.tls.ca: the PEM certificates to trust in addition to the system's. */
export async function readExtraTrustAnchors(
  decl: NormalizedCustomDeclaration,
  baseDir = ".",
): Promise<string | undefined> {
  if (!decl.smtp.caFile) return undefined;
  const path = resolve(baseDir, decl.smtp.caFile);
  let pem: string;
  try {
    pem = await readFile(path, "utf8");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? "unreadable";
    throw new MailServerError("tls", `smtp.tls.ca (${decl.smtp.caFile}) cannot be read: ${reason}`, {
      field: "smtp.tls.ca",
      remedy: "Point smtp.tls.ca.file at a PEM file, relative to the declaration's folder.",
      cause: error,
    });
  }
  if (!pem.includes("-----BEGIN CERTIFICATE-----")) {
    throw new MailServerError("tls", `smtp.tls.ca (${decl.smtp.caFile}) holds no PEM certificate`, {
      field: "smtp.tls.ca",
      remedy: "Point smtp.tls.ca.file at a PEM file with one or more CERTIFICATE blocks.",
    });
  }
  return pem;
}

/**
 * A TLS context that trusts the system's CAs plus `extraCaPem`, with TLS 1.2 at least.
 *
 * The documented way, `ca: [...tls.rootCertificates, pem]`, makes Node parse some 140 root
 * certificates from PEM on every connection (about 70-90 ms, most of a CLI run); adding the extra
 * certificates to the default context's store reuses the roots Node parsed once. That method
 * (`SecureContext.context.addCACert`, what Node itself uses for the `ca` option) is not public, so
 * the documented form remains the fallback. Either way certificate checks stay on.
 */
export function trustingSecureContext(extraCaPem?: string): SecureContext {
  const context = createSecureContext({ minVersion: "TLSv1.2" });
  if (!extraCaPem) return context;
  const native = (context as unknown as { context?: { addCACert?: (pem: string) => void } }).context;
  if (typeof native?.addCACert === "function") {
    native.addCACert(extraCaPem);
    return context;
  }
  return createSecureContext({ minVersion: "TLSv1.2", ca: [...rootCertificates, extraCaPem] });
}

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
  const { smtp } = decl;
  const servername = smtp.servername ?? (isIP(smtp.host) === 0 ? smtp.host : undefined);
  return {
    host: smtp.host,
    port: smtp.port,
    secure: smtp.protocol === "tls",
    // requireTLS: a STARTTLS that is missing or fails ends the session before AUTH; a client
    // that does not insist can be downgraded by anyone who strips the capability.
    requireTLS: smtp.protocol === "starttls",
    ...(clientName && { name: clientName }),
    connectionTimeout: smtp.timeouts.connectionMs,
    greetingTimeout: smtp.timeouts.greetingMs,
    socketTimeout: smtp.timeouts.socketMs,
    dnsTimeout: smtp.timeouts.connectionMs,
    logger: false,
    tls: {
      rejectUnauthorized: true,
      secureContext: trustingSecureContext(extraCaPem),
      ...(servername && { servername }),
    },
  };
}

/**
 * Options for `nodemailer.createTransport` that applications use to send through this setting:
 * the same TLS rules as the session, with AUTH PLAIN/LOGIN or XOAUTH2 with the access token.
 */
export function smtpTransportOptions(
  decl: NormalizedCustomDeclaration,
  credentials: SmtpCredentials,
  extraCaPem?: string,
): SMTPConnectionOptions & { auth: Record<string, string> } {
  const auth: Record<string, string> =
    credentials.method === "basic"
      ? { user: credentials.username, pass: credentials.password }
      : { type: "OAuth2", user: credentials.username, accessToken: credentials.accessToken };
  // Plain data (no TLS context object), so that it can be stored and handed to applications.
  const { tls: _context, logger: _logger, ...options } = smtpConnectionOptions(decl, undefined);
  const servername = decl.smtp.servername ?? (isIP(decl.smtp.host) === 0 ? decl.smtp.host : undefined);
  return {
    ...options,
    tls: {
      rejectUnauthorized: true,
      minVersion: "TLSv1.2",
      ...(servername && { servername }),
      ...(extraCaPem && { ca: [...rootCertificates, extraCaPem] }),
    },
    auth,
  };
}

/**
 * One SMTP session, step by step so that verify can report how far it got: {@link SmtpSession.open}
 * connects (TLS, EHLO, STARTTLS), {@link SmtpSession.authenticate} logs in, {@link SmtpSession.send}
 * sends, {@link SmtpSession.close} says QUIT. Every failure is a classified MailServerError.
 */
export class SmtpSession {
  readonly tls: TlsFacts | null;
  /** The AUTH mechanisms the server offered (after TLS), upper case, in the server's order. */
  readonly authMechanisms: string[];
  private failure: Error | undefined;

  private constructor(
    private readonly connection: Connection,
    private readonly decl: NormalizedCustomDeclaration,
    now: Date,
  ) {
    this.tls = tlsFacts(connection, now);
    this.authMechanisms = offeredMechanisms(connection);
  }

  /** Connects: TCP, TLS (implicit or STARTTLS, required), EHLO. */
  static async open(
    decl: NormalizedCustomDeclaration,
    options: SmtpSessionOptions = {},
  ): Promise<SmtpSession> {
    // nodemailer loads while we connect (see connect.ts). The trust anchors are needed to connect
    // with implicit TLS, but with STARTTLS only at the upgrade, after the server's greeting: then
    // they are read while the TCP connection waits for it. A bad smtp.tls.ca fails either way,
    // before anything is sent, and its error comes first.
    const loading = import("nodemailer/lib/smtp-connection");
    loading.catch(() => undefined);
    const configuring = readExtraTrustAnchors(decl, options.baseDir).then((extraCaPem) =>
      smtpConnectionOptions(decl, extraCaPem, options.clientName),
    );
    configuring.catch(() => undefined);
    const tlsAtConnect = decl.smtp.protocol === "tls" ? (await configuring).tls : undefined;
    const [opened, loaded, configured] = await Promise.allSettled([
      connectSocket(decl, tlsAtConnect ?? {}, options.lookup),
      loading,
      configuring,
    ]);
    const failedEarly =
      configured.status === "rejected" ? configured : loaded.status === "rejected" ? loaded : undefined;
    if (failedEarly) {
      if (opened.status === "fulfilled") opened.value.destroy();
      throw failedEarly.reason;
    }
    if (configured.status !== "fulfilled" || loaded.status !== "fulfilled") {
      throw new TypeError("unreachable: settled without a failure");
    }
    if (opened.status === "rejected") throw classifySmtpFailure(opened.reason, { decl, stage: "connect" });
    const connectionOptions = configured.value;
    const socket = opened.value;
    // An error or a close while nodemailer was loading: nodemailer never saw it, report it here.
    if (socket.destroyed) {
      throw classifySmtpFailure(earlyError(socket) ?? closedError(), { decl, stage: "connect" });
    }
    const connection = new loaded.value.default({
      ...connectionOptions,
      connection: socket,
      // Implicit TLS: the socket is already a verified TLS session.
      secured: decl.smtp.protocol === "tls",
      customAuth: { [XOAUTH2_HANDLER]: authenticateXOAuth2 },
    }) as Connection;
    let failure: Error | undefined;
    // An 'error' without a listener would crash the process: every error is kept and reported.
    connection.on("error", (error: Error) => {
      failure ??= error;
    });
    await new Promise<void>((resolveConnect, reject) => {
      const settle = (error?: Error) => {
        connection.off("error", settle);
        connection.off("end", onEnd);
        if (error) reject(classifySmtpFailure(error, { decl, stage: "connect" }));
        else resolveConnect();
      };
      const onEnd = () => settle(failure ?? closedError());
      connection.on("error", settle);
      connection.on("end", onEnd);
      connection.connect((error) => settle(error ?? undefined));
    });
    const session = new SmtpSession(connection, decl, options.now?.() ?? new Date());
    connection.on("error", (error: Error) => {
      session.failure ??= error;
    });
    return session;
  }

  /**
   * Logs in with AUTH PLAIN (else LOGIN) for a password, AUTH XOAUTH2 for an access token. When
   * the server offers none of them, no credential is sent. Returns the authenticated username.
   * @see https://www.rfc-editor.org/rfc/rfc4954 SMTP AUTH
   */
  async authenticate(credentials: SmtpCredentials): Promise<string> {
    const offered = this.authMechanisms;
    const wanted = credentials.method === "basic" ? ["PLAIN", "LOGIN"] : ["XOAUTH2"];
    const mechanism = wanted.find((name) => offered.includes(name));
    if (!mechanism) {
      throw new MailServerError(
        "auth-mechanism-unsupported",
        `${this.decl.smtp.host}:${this.decl.smtp.port} offers AUTH ${offered.length > 0 ? offered.join(" ") : "(none)"}, ` +
          `but auth.method ${credentials.method} needs ${wanted.join(" or ")}; no credential was sent`,
        { field: "auth.method" },
      );
    }
    const pass = credentials.method === "basic" ? credentials.password : credentials.accessToken;
    const method = mechanism === "XOAUTH2" ? XOAUTH2_HANDLER : mechanism;
    await this.step("auth", credentials.username, (done) =>
      this.connection.login({ method, user: credentials.username, pass }, (error) => done(error)),
    );
    return credentials.username;
  }

  /** Sends one message (MAIL FROM, RCPT TO, DATA). Rejected recipients are in the result. */
  send(envelope: { from: string; to: string[] }, message: Buffer): Promise<SMTPConnectionSendInfo> {
    return this.step("send", undefined, (done) => this.connection.send(envelope, message, done));
  }

  /** Says QUIT and closes; safe to call more than once and after a failure. */
  close(): void {
    try {
      if (!this.failure && this.connection.stage === "connected") this.connection.quit();
    } catch {
      // The connection is already gone: closing below is all that is left to do.
    }
    this.connection.close();
  }

  /** Runs one step, settling on its callback or on the connection failing under it. */
  private step<T>(
    stage: SmtpStage,
    username: string | undefined,
    start: (done: (error: Error | null | undefined, value?: T) => void) => void,
  ): Promise<T> {
    const { connection, decl } = this;
    return new Promise<T>((resolveStep, reject) => {
      let settled = false;
      const done = (error: Error | null | undefined, value?: T) => {
        if (settled) return;
        settled = true;
        connection.off("error", onError);
        connection.off("end", onEnd);
        if (error) reject(classifySmtpFailure(error, { decl, stage, ...(username && { username }) }));
        else resolveStep(value as T);
      };
      const onError = (error: Error) => done(error);
      const onEnd = () => done(this.failure ?? closedError());
      if (this.failure) return done(this.failure);
      connection.on("error", onError);
      connection.on("end", onEnd);
      start(done);
    });
  }
}

function closedError(): Error {
  return Object.assign(new Error("Connection closed unexpectedly"), { code: "ECONNECTION" });
}

function tlsFacts(connection: Connection, now: Date): TlsFacts | null {
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
function offeredMechanisms(connection: Connection): string[] {
  const mechanisms = new Set<string>();
  for (const line of connection._ehloLines ?? []) {
    const match = /^AUTH[\s=](.*)$/i.exec(line);
    if (match?.[1])
      for (const name of match[1].trim().split(/[\s=]+/)) if (name) mechanisms.add(name.toUpperCase());
  }
  return [...mechanisms];
}
