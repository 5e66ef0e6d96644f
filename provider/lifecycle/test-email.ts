/**
 * The test email as the lifecycle sends it, inside create/update (`testEmail.required`) or from
 * the post-deploy hook (`testEmail.onDeploy`): a message the server did not accept is a
 * MailServerError carrying the SMTP step's code.
 */
import type { NormalizedCustomDeclaration } from "../declaration/normalize.js";
import { ERROR_CODES, type ErrorCode, MailServerError } from "../errors.js";
import type { LifecycleSteps, SmtpCredentials, TestEmailReport } from "./steps.js";

export interface SendTestEmailOptions {
  /** From address when the declaration has none (OAuth: the ID token's email). */
  fromAddress?: string;
  /** Which test email, for the failure message: "the required test email". */
  which: string;
  log: (line: string) => void;
}

export async function sendTestEmailOrThrow(
  steps: LifecycleSteps,
  declaration: NormalizedCustomDeclaration,
  credentials: SmtpCredentials,
  baseDir: string,
  options: SendTestEmailOptions,
): Promise<TestEmailReport> {
  const report = await steps.sendTestEmail(declaration, credentials, baseDir, options.fromAddress);
  if (!report.ok) {
    throw new MailServerError(
      errorCode(report.error?.code, "send-failed"),
      `${declaration.name}: ${options.which} failed: ${report.error?.message ?? "not accepted"}`,
      { field: "testEmail" },
    );
  }
  options.log(
    `${declaration.name}: test email ${report.messageId ?? ""} accepted for ${report.accepted.join(", ")}`,
  );
  return report;
}

/** A step's failure code as a registry code (the steps use the same registry). */
export function errorCode(code: string | undefined, fallback: ErrorCode): ErrorCode {
  return code !== undefined && code in ERROR_CODES ? (code as ErrorCode) : fallback;
}
