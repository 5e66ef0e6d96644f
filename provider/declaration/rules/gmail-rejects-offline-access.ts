import { type Rule, scopePath } from "./view.js";

/** `gmail-offline-access`: Google rejects the `offline_access` scope (it uses access_type=offline). */
export const gmailRejectsOfflineAccess: Rule = ({ vendor, oauth, scopes, auth }) =>
  vendor?.name === "gmail" && oauth && scopes?.includes("offline_access")
    ? [
        {
          severity: "error",
          code: "gmail-offline-access",
          path: scopePath(auth, "offline_access"),
          message: 'Google rejects the scope "offline_access"',
          hint: "Remove it: Google returns a refresh token for access_type=offline with prompt=consent, which are sent for you.",
        },
      ]
    : [];
