import type { Rule } from "./view.js";

/**
 * `office365-app-scopes`: an app-only token for Exchange Online is requested with the resource's
 * `.default` scope and nothing else (AADSTS1002012 otherwise).
 * @see https://learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth
 */
export const office365AppScopes: Rule = ({ vendor, auth, scopes }) => {
  if (vendor?.name !== "office365" || auth?.flow !== "client-credentials" || scopes === undefined) return [];
  const expected = vendor.appScopes;
  if (scopes.length === expected.length && expected.every((scope) => scopes.includes(scope))) return [];
  return [
    {
      severity: "error",
      code: "office365-app-scopes",
      path: "/auth/scopes",
      message: `Office365 client credentials must request exactly ${expected.join(" ")}, not ${scopes.join(" ")}`,
      hint: `Set auth.scopes to [${expected.join(", ")}], or omit it (the preset supplies it); the app's permission is SMTP.SendAsApp.`,
    },
  ];
};
