import type { Rule, RuleProblem } from "./view.js";

/** Fields that only some flows use: a field declared for another flow is a mistake. */
const FIELD_FLOWS: Record<string, readonly string[]> = {
  redirectUri: ["loopback"],
  refreshToken: ["loopback", "device"],
  clientAssertion: ["client-credentials"],
  serviceAccountKey: ["service-account"],
  clientId: ["loopback", "device", "client-credentials"],
  clientSecret: ["loopback", "device", "client-credentials"],
};

/** The flows without a person or a stored grant (a redirect URI or a refresh token has no use there). */
const APP_ONLY_FLOWS: readonly string[] = ["client-credentials", "service-account"];

/**
 * `flow-field`: a field the declared flow does not use - a refresh token or redirect URI with an
 * app-only flow (there is no person and no grant), a service account key with client credentials.
 */
export const fieldsMatchFlow: Rule = ({ oauth, auth }) => {
  if (!oauth || !auth) return [];
  const flow = typeof auth.flow === "string" ? auth.flow : "loopback";
  return Object.entries(FIELD_FLOWS)
    .filter(([field, flows]) => auth[field] !== undefined && !flows.includes(flow))
    .map(
      ([field, flows]): RuleProblem => ({
        severity: "error",
        code: "flow-field",
        path: `/auth/${field}`,
        at: "key",
        message: `auth.${field} is not used by flow ${flow} (only by ${flows.join(", ")})`,
        hint:
          APP_ONLY_FLOWS.includes(flow) && (field === "refreshToken" || field === "redirectUri")
            ? `Remove auth.${field}: flow ${flow} needs no person and keeps no grant.`
            : `Remove auth.${field}, or choose flow ${flows.join(" or ")}.`,
        supersedesSchema: true,
      }),
    );
};
