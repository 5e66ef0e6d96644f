/**
 * The real OAuth and SMTP steps, adapted to the lifecycle's port (./steps.ts). Loaded only by
 * create/read/update/delete, so check and diff never load openid-client or nodemailer.
 */

import { obtainAppToken } from "../oauth/app-token.js";
import { type AuthorizationPrompt, authorize } from "../oauth/authorize.js";
import { resolveEndpoints } from "../oauth/discover.js";
import { refreshGrant, revokeGrant } from "../oauth/tokens.js";
import { connectService } from "../services/index.js";
import { sendTestEmail } from "../smtp/test-email.js";
import { verifySmtp } from "../smtp/verify.js";
import type { LifecycleSteps } from "./steps.js";

/** A prompt from the OAuth module: the device code, or the loopback authorization URL. */
export type FlowPrompt = AuthorizationPrompt | string;

/** One line for a person: the verification URI and the user code exactly as issued, or the full URL. */
export function promptLine(prompt: FlowPrompt): string {
  if (typeof prompt === "string") return prompt;
  if (prompt.kind === "device") {
    const complete = prompt.verificationUriComplete ? ` (or open ${prompt.verificationUriComplete})` : "";
    const until = prompt.expiresAt ? `, before ${prompt.expiresAt}` : "";
    return `open ${prompt.verificationUri} and enter the code ${prompt.userCode}${complete}${until}`;
  }
  return `open this URL in a browser on this machine to sign in: ${prompt.authorizationUrl}`;
}

export function realSteps(): LifecycleSteps {
  return {
    resolveEndpoints,
    authorize: (auth, options) =>
      authorize(auth, {
        ...options,
        prompt: (prompt: AuthorizationPrompt) => options.prompt(promptLine(prompt)),
        noBrowser: options.noBrowser ?? true,
      }),
    refreshGrant,
    obtainAppToken,
    revokeGrant,
    verifySmtp: (declaration, credentials, baseDir) => verifySmtp(declaration, credentials, { baseDir }),
    sendTestEmail: (declaration, credentials, baseDir, fromAddress) =>
      sendTestEmail(declaration, credentials, {
        baseDir,
        ...(fromAddress !== undefined && { fromAddress }),
      }),
    connectService,
  };
}
