/**
 * The package's main entry: the Pulumi resource and the library functions the CLI is built on.
 * Re-exports only; a test pins this list.
 */
export type { MailServerDeclaration, SecretReference } from "./declaration/generated/declaration.js";
export { type LoadedDeclaration, loadDeclarationFile, loadDeclarationText } from "./declaration/load.js";
export { type NormalizedDeclaration, normalizeDeclaration } from "./declaration/normalize.js";
export type { Problem } from "./declaration/problem.js";
export { describeSecretReference, resolveSecret } from "./declaration/secrets.js";
export { validateDeclarationValue } from "./declaration/validate.js";
export { ERROR_CODES, type ErrorCode, isMailServerError, MailServerError } from "./errors.js";
export type { MailServerInputs, MailServerState } from "./lifecycle/state.js";
export { type FolderDeclaration, loadDeclarations } from "./load-declarations.js";
export {
  MAIL_SERVER_TYPE,
  MailServer,
  type MailServerArgs,
  type MailServerOptions,
  type SecretInput,
} from "./mail-server.js";
export { discoverIssuer, resolveEndpoints } from "./oauth/discover.js";
export { refreshGrant, revokeGrant } from "./oauth/tokens.js";
export { identityFromClaims } from "./oauth/username.js";
export { sendTestEmail, type TestEmailReport } from "./smtp/test-email.js";
export { type VerifyReport, verifySmtp } from "./smtp/verify.js";
