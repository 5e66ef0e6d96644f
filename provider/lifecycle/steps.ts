/**
 * The steps the lifecycle orchestrates, written by the OAuth and SMTP modules. They are loaded at
 * call time (a `check` or `diff` never loads openid-client or nodemailer) and are injectable, so
 * tests and benches can pass their own. The types are those modules' own, imported as types only:
 * they vanish from the compiled file, which therefore loads no network library.
 */
import type { NormalizedCustomDeclaration, NormalizedOAuthAuth } from "../declaration/normalize.js";
import type { obtainAppToken } from "../oauth/app-token.js";
import type {
  AuthorizeOptions,
  Grant,
  IssuerMetadata,
  RefreshedGrant,
  refreshGrant,
  resolveEndpoints,
  revokeGrant,
} from "../oauth/index.js";
import type { connectService } from "../services/index.js";
import type { SmtpCredentials } from "../smtp/session.js";
import type { TestEmailReport } from "../smtp/test-email.js";
import type { VerifyReport } from "../smtp/verify.js";

export type { Grant, IssuerMetadata, RefreshedGrant, SmtpCredentials, TestEmailReport, VerifyReport };

export interface LifecycleSteps {
  resolveEndpoints: typeof resolveEndpoints;
  /** Runs the declared flow; `prompt` gets each instruction as one line for a person. */
  authorize(
    auth: NormalizedOAuthAuth,
    options: Pick<AuthorizeOptions, "clientSecret" | "noBrowser" | "timeoutMs"> & {
      prompt: (line: string) => void;
    },
  ): Promise<Grant>;
  refreshGrant: typeof refreshGrant;
  /** The app-only flows' token (client credentials, service account): fetched each time, never stored. */
  obtainAppToken: typeof obtainAppToken;
  revokeGrant: typeof revokeGrant;
  verifySmtp(
    declaration: NormalizedCustomDeclaration,
    credentials: SmtpCredentials,
    baseDir: string,
  ): Promise<VerifyReport>;
  sendTestEmail(
    declaration: NormalizedCustomDeclaration,
    credentials: SmtpCredentials,
    baseDir: string,
    /** From address when the declaration has none (OAuth: the ID token's email). */
    fromAddress?: string,
  ): Promise<TestEmailReport>;
  /** Logs in to the identity service that stores the setting (`service`). */
  connectService: typeof connectService;
}

/** The real steps, loaded from the OAuth and SMTP modules when first needed. */
export async function defaultSteps(): Promise<LifecycleSteps> {
  const { realSteps } = await import("./real-steps.js");
  return realSteps();
}
