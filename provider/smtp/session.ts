import type { LookupFunction } from "node:net";
import type { SMTPConnectionSendInfo } from "nodemailer/lib/smtp-connection";
import type { NormalizedCustomDeclaration } from "../declaration/normalize.js";
import { MailServerError } from "../errors.js";
import { classifySmtpFailure, type SmtpStage } from "./classify.js";
import { closedError, connectSocket, earlyError } from "./connect.js";
import { smtpConnectionOptions } from "./connection-options.js";
import { type Connection, offeredMechanisms, type TlsFacts, tlsFacts } from "./session-facts.js";
import { readExtraTrustAnchors } from "./trust-anchors.js";
import { authenticateXOAuth2, XOAUTH2_HANDLER } from "./xoauth2.js";

/** What the SMTP login uses: a password (AUTH PLAIN/LOGIN) or an OAuth access token (AUTH XOAUTH2). */
export type SmtpCredentials =
  | { method: "basic"; username: string; password: string }
  | { method: "oauth"; username: string; accessToken: string };

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

/**
 * One SMTP session, step by step so that verify can report how far it got: {@link SmtpSession.open}
 * connects (TLS, EHLO, STARTTLS), {@link SmtpSession.authenticate} logs in, {@link SmtpSession.send}
 * sends, {@link SmtpSession.close} says QUIT. Every failure is a classified MailServerError.
 */
export class SmtpSession {
  readonly tls: TlsFacts | null;
  /** The AUTH mechanisms the server offered (after TLS), upper case, in the server's order. */
  readonly authMechanisms: string[];

  private constructor(
    private readonly connection: Connection,
    private readonly decl: NormalizedCustomDeclaration,
    /** The connection's first error, kept by open's listener for the steps that come later. */
    private readonly seen: { failure?: Error },
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
    const seen: { failure?: Error } = {};
    // An 'error' without a listener would crash the process: every error is kept and reported.
    connection.on("error", (error: Error) => {
      seen.failure ??= error;
    });
    await new Promise<void>((resolveConnect, reject) => {
      const settle = (error?: Error) => {
        connection.off("error", settle);
        connection.off("end", onEnd);
        if (error) reject(classifySmtpFailure(error, { decl, stage: "connect" }));
        else resolveConnect();
      };
      const onEnd = () => settle(seen.failure ?? closedError());
      connection.on("error", settle);
      connection.on("end", onEnd);
      connection.connect((error) => settle(error ?? undefined));
    });
    return new SmtpSession(connection, decl, seen, options.now?.() ?? new Date());
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
      if (!this.seen.failure && this.connection.stage === "connected") this.connection.quit();
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
      const onEnd = () => done(this.seen.failure ?? closedError());
      if (this.seen.failure) return done(this.seen.failure);
      connection.on("error", onError);
      connection.on("end", onEnd);
      start(done);
    });
  }
}
