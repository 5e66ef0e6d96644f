/** The named rules beyond the schema: one file per rule, each named after what it checks. */

import { appNeedsUsername } from "./app-needs-username.js";
import { basicNeedsFrom } from "./basic-needs-from.js";
import { builtinHasNoSmtpFields } from "./builtin-has-no-smtp-fields.js";
import { clientCredentialsAuth } from "./client-credentials-auth.js";
import { fieldsMatchFlow } from "./fields-match-flow.js";
import { gmailClientCredentials } from "./gmail-client-credentials.js";
import { gmailDeviceFlowLacksMailScope } from "./gmail-device-flow-lacks-mail-scope.js";
import { noHeaderInjection } from "./no-header-injection.js";
import { oauthNeedsEndpoints } from "./oauth-needs-endpoints.js";
import { office365AppScopes } from "./office365-app-scopes.js";
import { office365AppTenant } from "./office365-app-tenant.js";
import { office365BasicRetiring } from "./office365-basic-retiring.js";
import { office365NeedsUsername } from "./office365-needs-username.js";
import { portMatchesProtocol } from "./port-matches-protocol.js";
import { presetMatchesFacts } from "./preset-matches-facts.js";
import { presetScopes } from "./preset-scopes.js";
import { redirectIsLoopback } from "./redirect-is-loopback.js";
import { secretsAreReferences } from "./secrets-are-references.js";
import { serviceAccountVendor } from "./service-account-vendor.js";
import { serviceSendsWithBasicOrClientCredentials } from "./service-sends-with-basic-or-client-credentials.js";
import { serviceUrlIsHttps } from "./service-url-is-https.js";
import { serviceWithBuiltinClearsRealm } from "./service-with-builtin-clears-realm.js";
import { urlsAreHttps } from "./urls-are-https.js";
import { type Fields, type Rule, type RuleProblem, view } from "./view.js";

export type { RuleProblem } from "./view.js";

/** The named rules beyond the schema, in the order their codes are documented. */
export const RULES: Readonly<Record<string, Rule>> = {
  presetScopes,
  gmailDeviceFlowLacksMailScope,
  office365NeedsUsername,
  office365AppScopes,
  office365AppTenant,
  gmailClientCredentials,
  serviceAccountVendor,
  appNeedsUsername,
  fieldsMatchFlow,
  clientCredentialsAuth,
  oauthNeedsEndpoints,
  urlsAreHttps,
  redirectIsLoopback,
  secretsAreReferences,
  basicNeedsFrom,
  noHeaderInjection,
  builtinHasNoSmtpFields,
  presetMatchesFacts,
  portMatchesProtocol,
  serviceSendsWithBasicOrClientCredentials,
  serviceUrlIsHttps,
  serviceWithBuiltinClearsRealm,
  office365BasicRetiring,
};

export function checkRules(root: Fields): RuleProblem[] {
  const declaration = view(root);
  return Object.values(RULES).flatMap((rule) => rule(declaration));
}
