/** What verify and test-email reports share: the timing, and a failure as data instead of a throw. */
import { performance } from "node:perf_hooks";
import type { NormalizedCustomDeclaration } from "../declaration/normalize.js";
import type { ErrorCode, MailServerError } from "../errors.js";
import { classifySmtpFailure, type SmtpStage } from "./classify.js";

/** A failure in a report: the stable code, a message with its remedy, and the SMTP reply code. */
export interface ReportError {
  code: ErrorCode;
  message: string;
  smtpCode: number | null;
}

/** The keys every SMTP report has, whatever else it says. */
interface Outcome {
  ok: boolean;
  durationMs: number;
  error: ReportError | null;
}

/**
 * Runs the steps behind a report: `ok` when they finish, else the classified failure in `error`,
 * and `durationMs` either way. Operational failures do not throw, because drift detection and the
 * provider read the report either way; only programmer errors (TypeError) do.
 */
export async function runReport<R extends Outcome>(
  report: R,
  decl: NormalizedCustomDeclaration,
  stage: SmtpStage,
  steps: () => Promise<void>,
): Promise<R> {
  const started = performance.now();
  try {
    await steps();
    report.ok = true;
  } catch (error) {
    if (error instanceof TypeError) throw error;
    report.error = reportError(classifySmtpFailure(error, { decl, stage }));
  } finally {
    report.durationMs = Math.round(performance.now() - started);
  }
  return report;
}

/** A MailServerError as a report's `error`: the message carries the remedy. */
function reportError(error: MailServerError): ReportError {
  const smtpCode = error.details.smtpCode;
  const message = /[.!?]$/.test(error.message) ? error.message : `${error.message}.`;
  return {
    code: error.code,
    message: `${message} ${error.remedy}`,
    smtpCode: typeof smtpCode === "number" ? smtpCode : null,
  };
}
