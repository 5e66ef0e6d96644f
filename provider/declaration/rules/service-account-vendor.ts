import type { Rule } from "./view.js";

/** `service-account-vendor`: the service-account flow (Google's domain-wide delegation) with Microsoft. */
export const serviceAccountVendor: Rule = ({ vendor, auth }) =>
  vendor?.name === "office365" && auth?.flow === "service-account"
    ? [
        {
          severity: "error",
          code: "service-account-vendor",
          path: "/auth/flow",
          message: "Microsoft 365 has no service-account flow: its app-only SMTP uses client credentials",
          hint: "Use flow: client-credentials with auth.clientId, auth.tenantId and auth.clientSecret or auth.clientAssertion.",
        },
      ]
    : [];
