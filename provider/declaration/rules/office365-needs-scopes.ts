import type { Rule } from "./view.js";

/** `office365-scopes`: Microsoft needs SMTP.Send to send and offline_access for a refresh token. */
export const office365NeedsScopes: Rule = ({ preset, oauth, scopes }) => {
  if (preset?.name !== "office365" || !oauth || scopes === undefined) return [];
  const missing = preset.requiredScopes.filter((scope) => !scopes.includes(scope));
  return missing.length === 0
    ? []
    : [
        {
          severity: "error",
          code: "office365-scopes",
          path: "/auth/scopes",
          message: `Office365 OAuth scopes lack ${missing.join(" and ")}`,
          hint: `Add ${missing.join(" and ")}: SMTP.Send allows sending, offline_access returns a refresh token.`,
        },
      ];
};
