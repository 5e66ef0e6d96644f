import { createServer, type Socket } from "node:net";
import { type ParsedMail, simpleParser } from "mailparser";
import { SMTPServer, type SMTPServerAuthentication, type SMTPServerSession } from "smtp-server";
import { createThrowawayCA, type IssuedCertificate, type ThrowawayCA } from "./ca.js";

/** The test account for AUTH PLAIN and LOGIN. */
export interface SandboxAccount {
  username: string;
  password: string;
}

/** A reply the sandbox gives instead of the normal one: a vendor's reply, for example. */
export interface SandboxReply {
  code: number;
  /** The reply text, with its enhanced status code (`5.7.139 Authentication unsuccessful...`). */
  message: string;
}

/**
 * Faults the sandbox can produce. Mutable between tests: `sandbox.faults.temporaryFailures = 1`.
 */
export interface SandboxFaults {
  /** Answer every AUTH with this reply instead of checking the credentials. */
  authReply?: SandboxReply;
  /**
   * Answer every AUTH XOAUTH2 with this error challenge (a `334` with the base64 JSON, then `535
   * 5.7.8` after the client's empty line), as Gmail does for a token without the mail scope.
   */
  xoauth2Challenge?: { status: string; schemes?: string; scope?: string };
  /** Recipients (case-insensitive) answered with `550 5.1.1`. */
  rejectRecipients: string[];
  /** Answer the next N `MAIL FROM` commands with `451 4.3.0` (counts down across connections). */
  temporaryFailures: number;
  /** Answer MAIL FROM with this reply (for example Microsoft's `530 5.7.57`). */
  mailFromReply?: SandboxReply;
  /** Answer the end of DATA with this reply (for example `554 5.2.252 SendAsDenied`). */
  dataReply?: SandboxReply;
  /** Destroy the connection, without a reply, when the client reaches this step. */
  dropAt?: "auth" | "mail";
}

export interface SandboxSmtpOptions {
  /** The CA that issues the server certificate (default: a new throwaway CA). */
  ca?: ThrowawayCA;
  /** The server certificate (default: a valid loopback certificate from `ca`). */
  certificate?: IssuedCertificate;
  account?: SandboxAccount;
  /**
   * Checks an XOAUTH2 access token for the user it logs in as, for example by the sandbox OP's
   * introspection endpoint. Returns the account the token may log in as, null when the token is
   * not valid, or the reply to give (an app token for a mailbox the app may not use: Exchange's
   * `535 5.7.3`). Without it the sandbox does not offer XOAUTH2.
   */
  verifyAccessToken?: (
    accessToken: string,
    username: string,
  ) => Promise<{ username: string } | { reply: SandboxReply } | null>;
  /**
   * The STARTTLS listener neither offers nor accepts STARTTLS, and accepts AUTH in plain text:
   * a client that sent credentials anyway would be seen doing it in `authAttempts`.
   */
  hideSTARTTLS?: boolean;
  faults?: Partial<SandboxFaults>;
}

/** One AUTH the sandbox received. Holds no password or token. */
export interface AuthAttempt {
  method: string;
  username: string;
  port: number;
  /** Whether the connection was encrypted when the credentials arrived. */
  secure: boolean;
  accepted: boolean;
}

/** A message the sandbox accepted, as sent and as parsed by mailparser. */
export interface ReceivedMessage {
  envelope: { from: string; to: string[] };
  /** The authenticated user that sent it. */
  user: string | undefined;
  port: number;
  raw: Buffer;
  parsed: ParsedMail;
}

export interface SandboxSmtp {
  host: "127.0.0.1";
  /** Implicit TLS (RFC 8314) listener. */
  tlsPort: number;
  /** Plain listener that offers STARTTLS (RFC 3207), unless hideSTARTTLS. */
  starttlsPort: number;
  /** The CA to trust (`smtp.tls.ca`). */
  caPem: string;
  account: SandboxAccount;
  faults: SandboxFaults;
  messages: ReceivedMessage[];
  authAttempts: AuthAttempt[];
  /** Resolves with the `count`-th message received (default 1) once it has arrived. */
  waitForMessage(options?: { count?: number; timeoutMs?: number }): Promise<ReceivedMessage>;
  /** Forgets messages and AUTH attempts and clears every fault. */
  reset(): void;
  stop(): Promise<void>;
}

export const SANDBOX_ACCOUNT: SandboxAccount = {
  username: "sender@sandbox.test",
  password: "sandbox-password",
};

/**
 * Starts a real SMTP server (npm `smtp-server`) on 127.0.0.1 with two listeners on ephemeral
 * ports: implicit TLS and STARTTLS, both with a certificate from a throwaway CA. It accepts AUTH
 * PLAIN/LOGIN for the test account and, with `verifyAccessToken`, AUTH XOAUTH2 for access tokens
 * the sandbox OP issued; it parses every accepted message with mailparser.
 *
 * @example
 * const smtp = await startSandboxSmtp();
 * // declare smtp.host 127.0.0.1, port smtp.tlsPort, protocol tls, tls.ca = a file holding smtp.caPem
 * await smtp.stop();
 * @see https://www.rfc-editor.org/rfc/rfc8314 implicit TLS
 * @see https://www.rfc-editor.org/rfc/rfc3207 STARTTLS
 */
export async function startSandboxSmtp(options: SandboxSmtpOptions = {}): Promise<SandboxSmtp> {
  const ca = options.ca ?? createThrowawayCA();
  const certificate = options.certificate ?? ca.issue();
  const account = options.account ?? SANDBOX_ACCOUNT;
  const faults = freshFaults(options.faults);
  const messages: ReceivedMessage[] = [];
  const authAttempts: AuthAttempt[] = [];
  const waiters = new Set<() => void>();

  const authMethods = ["PLAIN", "LOGIN", ...(options.verifyAccessToken ? ["XOAUTH2"] : [])];

  const onAuth = (port: () => number) =>
    function onAuth(
      auth: SMTPServerAuthentication,
      session: SMTPServerSession,
      callback: (error: Error | null | undefined, response?: { user?: string; data?: object }) => void,
    ): void {
      const attempt: AuthAttempt = {
        method: auth.method,
        username: auth.username ?? "",
        port: port(),
        secure: session.secure,
        accepted: false,
      };
      authAttempts.push(attempt);
      if (faults.dropAt === "auth") {
        drop(session);
        return;
      }
      if (faults.authReply) {
        callback(replyError(faults.authReply));
        return;
      }
      if (auth.method === "XOAUTH2" && faults.xoauth2Challenge) {
        callback(null, { data: { ...faults.xoauth2Challenge } });
        return;
      }
      if (auth.method === "XOAUTH2") {
        const verify = options.verifyAccessToken;
        const token = auth.accessToken ?? "";
        void (verify ? verify(token, attempt.username) : Promise.resolve(null)).then(
          (owner) => {
            if (owner && "reply" in owner) return callback(replyError(owner.reply));
            if (owner && owner.username.toLowerCase() === attempt.username.toLowerCase()) {
              attempt.accepted = true;
              return callback(null, { user: owner.username });
            }
            // Gmail's answer to a bad token: a 334 challenge carrying an error JSON, then 535.
            return callback(null, {
              data: { status: "401", schemes: "bearer", scope: "https://mail.google.com/" },
            });
          },
          (error: unknown) =>
            callback(replyError({ code: 454, message: `4.7.0 token check failed: ${String(error)}` })),
        );
        return;
      }
      if (attempt.username === account.username && auth.password === account.password) {
        attempt.accepted = true;
        callback(null, { user: account.username });
        return;
      }
      callback(replyError({ code: 535, message: "5.7.8 Username and Password not accepted" }));
    };

  const handlers = (port: () => number) => ({
    onAuth: onAuth(port),
    onMailFrom(_address: unknown, session: SMTPServerSession, callback: (error?: Error | null) => void) {
      if (faults.dropAt === "mail") return drop(session);
      if (faults.mailFromReply) return callback(replyError(faults.mailFromReply));
      if (faults.temporaryFailures > 0) {
        faults.temporaryFailures--;
        return callback(
          replyError({ code: 451, message: "4.3.0 Temporary sandbox failure, try again later" }),
        );
      }
      return callback();
    },
    onRcptTo(
      address: { address: string },
      _session: SMTPServerSession,
      callback: (error?: Error | null) => void,
    ) {
      const rejected = faults.rejectRecipients.some((r) => r.toLowerCase() === address.address.toLowerCase());
      if (rejected)
        return callback(replyError({ code: 550, message: "5.1.1 Recipient address rejected: no such user" }));
      return callback();
    },
    onData(
      stream: NodeJS.ReadableStream,
      session: SMTPServerSession,
      callback: (error?: Error | null, message?: string) => void,
    ) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        if (faults.dataReply) return callback(replyError(faults.dataReply));
        const raw = Buffer.concat(chunks);
        simpleParser(raw).then(
          (parsed) => {
            messages.push({
              envelope: {
                from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
                to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
              },
              user: typeof session.user === "string" ? session.user : undefined,
              port: port(),
              raw,
              parsed,
            });
            for (const wake of waiters) wake();
            callback(null, `Message queued as sandbox-${messages.length}`);
          },
          (error: unknown) => callback(error as Error),
        );
      });
    },
  });

  function drop(session: SMTPServerSession): void {
    // The fault is a connection that vanishes mid-session: destroy the socket, reply nothing.
    for (const server of [tlsServer, starttlsServer]) {
      for (const connection of server.connections)
        if (connection.id === session.id) connection._socket.destroy();
    }
  }

  const common = {
    name: "sandbox.test",
    banner: "pulumi-mailserver sandbox",
    logger: false,
    key: certificate.keyPem,
    cert: certificate.certPem,
    authMethods,
    closeTimeout: 500,
    // No reverse DNS of 127.0.0.1: it only costs time on every connection.
    disableReverseLookup: true,
    disabledCommands: [] as string[],
  };

  let tlsPort = 0;
  let starttlsPort = 0;
  const tlsServer = new SMTPServer({ ...common, secure: true, ...handlers(() => tlsPort) });
  const starttlsServer = new SMTPServer({
    ...common,
    secure: false,
    ...(options.hideSTARTTLS && { disabledCommands: ["STARTTLS"], allowInsecureAuth: true }),
    ...handlers(() => starttlsPort),
  });
  tlsPort = await listen(tlsServer);
  starttlsPort = await listen(starttlsServer);

  return {
    host: "127.0.0.1",
    tlsPort,
    starttlsPort,
    caPem: ca.caPem,
    account,
    faults,
    messages,
    authAttempts,
    waitForMessage({ count = 1, timeoutMs = 5_000 } = {}) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const message = messages[count - 1];
          if (!message) return false;
          clearTimeout(timer);
          waiters.delete(wake);
          resolve(message);
          return true;
        };
        const wake = () => void check();
        const timer = setTimeout(() => {
          waiters.delete(wake);
          reject(new Error(`the sandbox received ${messages.length} message(s), waited for ${count}`));
        }, timeoutMs);
        waiters.add(wake);
        check();
      });
    },
    reset() {
      messages.length = 0;
      authAttempts.length = 0;
      // Every key, so that a fault added later is cleared too.
      for (const key of Object.keys(faults))
        delete (faults as Partial<SandboxFaults>)[key as keyof SandboxFaults];
      Object.assign(faults, freshFaults());
    },
    async stop() {
      await Promise.all([close(tlsServer), close(starttlsServer)]);
    },
  };
}

/**
 * A server that accepts TCP connections and never says anything: the "server never greets"
 * fault. smtp-server always greets, so this one is a plain `net` server on purpose.
 */
export async function startSilentServer(): Promise<{
  host: "127.0.0.1";
  port: number;
  stop(): Promise<void>;
}> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => undefined);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("the silent server has no port");
  return {
    host: "127.0.0.1",
    port: address.port,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function freshFaults(overrides: Partial<SandboxFaults> = {}): SandboxFaults {
  return { rejectRecipients: [], temporaryFailures: 0, ...overrides };
}

function replyError(reply: SandboxReply): Error {
  return Object.assign(new Error(reply.message), { responseCode: reply.code });
}

function listen(server: SMTPServer): Promise<number> {
  return new Promise((resolve, reject) => {
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.server.address();
      if (!address || typeof address === "string")
        return reject(new Error("the sandbox SMTP server has no port"));
      resolve(address.port);
    });
  });
}

function close(server: SMTPServer): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
