import type { Rule } from "./view.js";

/** `gmail-client-credentials`: Google has no client credentials grant for Gmail. */
export const gmailClientCredentials: Rule = ({ vendor, auth }) =>
  vendor?.name === "gmail" && auth?.flow === "client-credentials"
    ? [
        {
          severity: "error",
          code: "gmail-client-credentials",
          path: "/auth/flow",
          message: "Google has no client credentials grant for Gmail",
          hint: "Use flow: service-account with a Workspace service account that has domain-wide delegation (auth.serviceAccountKey).",
        },
      ]
    : [];
