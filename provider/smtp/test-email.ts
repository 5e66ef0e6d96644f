import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { NormalizedCustomDeclaration } from "../declaration/normalize.js";
import { MailServerError } from "../errors.js";
import { classifySmtpFailure } from "./classify.js";
import { type ReportError, runReport } from "./report.js";
import { type SmtpCredentials, SmtpSession, type SmtpSessionOptions } from "./session.js";
import { type CredentialsSource, obtainCredentials } from "./verify.js";

/** What `mailserver test-email --format json` prints (a contract: keep the keys). */
export interface TestEmailReport {
  ok: boolean;
  /** The Message-ID header of the test email (with angle brackets); null when nothing was sent. */
  messageId: string | null;
  accepted: string[];
  rejected: string[];
  /** The server's final reply to the message (or to the failed command). */
  response: string | null;
  durationMs: number;
  error: ReportError | null;
}

export interface SendTestEmailOptions extends SmtpSessionOptions {
  /** Recipients instead of testEmail.to (`--to`). */
  to?: string[];
  /** From address when the declaration has none: with OAuth, the ID token's email. */
  fromAddress?: string;
  /** Waits before the 2nd and 3rd try after a 4xx reply (default 1 s and 3 s). */
  retryDelaysMs?: number[];
  /** Waits; injectable so that tests do not wait for real. */
  sleep?: (ms: number) => Promise<unknown>;
}

/** The test email as it is composed; exported for tests and for the provider's hook. */
export interface TestEmail {
  from: { name?: string; address: string };
  to: string[];
  replyTo?: string;
  subject: string;
  text: string;
  html: string;
  messageId: string;
  date: Date;
}

const DEFAULT_RETRY_DELAYS_MS = [1_000, 3_000];

/**
 * Sends the test email ("Send Test Email") and reports what the server said. A 4xx reply is
 * retried on a new connection with backoff (3 tries in all); a 5xx reply is reported at once.
 * Like verifySmtp it returns `ok: false` with a classified error instead of throwing.
 *
 * @example
 * const report = await sendTestEmail(decl, credentials, { to: ["me@example.com"] });
 * @see https://www.rfc-editor.org/rfc/rfc5321#section-4.2.1 reply codes: 4yz transient, 5yz permanent
 */
export async function sendTestEmail(
  decl: NormalizedCustomDeclaration,
  credentials: CredentialsSource,
  options: SendTestEmailOptions = {},
): Promise<TestEmailReport> {
  const report: TestEmailReport = {
    ok: false,
    messageId: null,
    accepted: [],
    rejected: [],
    response: null,
    durationMs: 0,
    error: null,
  };
  const delays = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
  const wait = options.sleep ?? sleep;
  return runReport(report, decl, "send", async () => {
    // Credentials, composition and the connection proceed together: the connection mostly waits
    // for the network and the server's greeting, which is time enough to load and build the message.
    const prepared = prepareMessage(decl, credentials, options);
    prepared.catch(() => undefined);
    for (let attempt = 0; ; attempt++) {
      try {
        const info = await sendOnce(decl, prepared, options);
        report.messageId = info.messageId;
        report.accepted = info.accepted;
        report.rejected = info.rejected;
        report.response = info.response;
        if (info.rejected.length === 0) return;
        const first = info.rejectedErrors?.[0];
        throw first ?? new Error(`rejected: ${info.rejected.join(", ")}`);
      } catch (error) {
        if (error instanceof TypeError) throw error;
        const failure = classifySmtpFailure(error, { decl, stage: "send" });
        const smtpCode = failure.details.smtpCode;
        const transient = typeof smtpCode === "number" && smtpCode >= 400 && smtpCode < 500;
        // Once a message went out (to some recipients), trying again would send it twice.
        if (!transient || attempt >= delays.length || report.messageId !== null) {
          const reply = (failure.cause as { response?: unknown } | undefined)?.response;
          if (report.response === null && typeof reply === "string") report.response = reply;
          throw failure;
        }
        await wait(delays[attempt] ?? 0);
      }
    }
  });
}

interface PreparedMessage {
  credentials: SmtpCredentials;
  email: TestEmail;
  raw: Buffer;
}

async function prepareMessage(
  decl: NormalizedCustomDeclaration,
  source: CredentialsSource,
  options: SendTestEmailOptions,
): Promise<PreparedMessage> {
  const { credentials, fromAddress } = await obtainCredentials(source);
  const email = composeTestEmail(decl, credentials, {
    ...options,
    ...(options.fromAddress === undefined && fromAddress && { fromAddress }),
  });
  // Loaded on demand: verify never needs the MIME composer.
  const { default: MailComposer } = await import("nodemailer/lib/mail-composer");
  const raw = await new MailComposer({
    from: email.from,
    to: email.to,
    ...(email.replyTo && { replyTo: email.replyTo }),
    subject: email.subject,
    text: email.text,
    html: email.html,
    messageId: email.messageId,
    date: email.date,
    headers: { "X-Mailer": "pulumi-mailserver test-email" },
  })
    .compile()
    .build();
  return { credentials, email, raw };
}

/** One try: connect while the message is prepared, then AUTH and send. */
async function sendOnce(
  decl: NormalizedCustomDeclaration,
  prepared: Promise<PreparedMessage>,
  options: SmtpSessionOptions,
) {
  const [opened, ready] = await Promise.allSettled([SmtpSession.open(decl, options), prepared]);
  const session = opened.status === "fulfilled" ? opened.value : undefined;
  try {
    // A failure to prepare (no grant, no From address) says more than a failure to connect.
    if (ready.status === "rejected") throw ready.reason;
    if (opened.status === "rejected") throw opened.reason;
    if (!session) throw new TypeError("unreachable: a fulfilled open without a session");
    const { credentials, email, raw } = ready.value;
    await session.authenticate(credentials);
    const info = await session.send({ from: email.from.address, to: email.to }, raw);
    return { ...info, messageId: email.messageId };
  } finally {
    session?.close();
  }
}

/**
 * Composes the test email: From = `from.name <from.address>` (the ID token's email for OAuth when
 * no address is declared), Reply-To only when replyTo is set, To = `--to` or testEmail.to, the
 * declared subject or one naming the setting, a body that says which setting sent it and when.
 */
export function composeTestEmail(
  decl: NormalizedCustomDeclaration,
  credentials: Pick<SmtpCredentials, "username">,
  options: Pick<SendTestEmailOptions, "to" | "fromAddress" | "now"> = {},
): TestEmail {
  const address = decl.from.address ?? options.fromAddress;
  if (!address) {
    throw new MailServerError("send-failed", `declaration ${decl.name} has no From address`, {
      field: "from.address",
      remedy:
        "Set from.address (with OAuth it can come from the ID token's email: authorize with the `email` scope).",
    });
  }
  const to = options.to && options.to.length > 0 ? options.to : (decl.testEmail?.to ?? []);
  if (to.length === 0) {
    throw new MailServerError(
      "send-failed",
      `declaration ${decl.name} has no testEmail.to and no recipient was given`,
      {
        field: "testEmail.to",
        remedy: "Set testEmail.to in the declaration, or pass --to ADDRESS.",
      },
    );
  }
  const date = options.now?.() ?? new Date();
  const { host, port, protocol } = decl.smtp;
  const subject = decl.testEmail?.subject ?? `Test email from the mail server setting "${decl.name}"`;
  const facts = [
    `Setting: ${decl.name}`,
    `Server: ${host}:${port} (${protocol === "tls" ? "implicit TLS" : "STARTTLS"})`,
    `Login: ${credentials.username} (${decl.auth.method === "oauth" ? "OAuth, XOAUTH2" : "Basic"})`,
    `Sent at: ${date.toISOString()}`,
  ];
  const text = [
    `This is a test email from the mail server setting "${decl.name}", sent by pulumi-mailserver.`,
    "If you can read it, the setting delivers mail.",
    "",
    ...facts,
    "",
  ].join("\n");
  const html = [
    "<!doctype html><html><body>",
    `<p>This is a test email from the mail server setting <strong>${escapeHtml(decl.name)}</strong>, sent by pulumi-mailserver.</p>`,
    "<p>If you can read it, the setting delivers mail.</p>",
    `<ul>${facts.map((fact) => `<li>${escapeHtml(fact)}</li>`).join("")}</ul>`,
    "</body></html>",
  ].join("\n");
  const domain = address.split("@")[1] ?? "pulumi-mailserver.invalid";
  return {
    from: { ...(decl.from.name && { name: decl.from.name }), address },
    to: [...to],
    ...(decl.replyTo && { replyTo: decl.replyTo }),
    subject,
    text,
    html,
    messageId: `<${randomUUID()}@${domain}>`,
    date,
  };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
