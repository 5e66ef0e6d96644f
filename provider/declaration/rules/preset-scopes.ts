import type { ProblemCode } from "../problem-codes.js";
import { type Rule, scopePath } from "./view.js";

/**
 * `<preset>-scopes` (and `gmail-offline-access`): the vendor's scope facts, read from the preset's
 * data. A scope the vendor refuses or that yields the wrong token is named where it is written;
 * each required scope missing in every accepted spelling is named once (the delegated flows only).
 */
export const presetScopes: Rule = ({ vendor, oauth, appOnly, scopes, auth }) => {
  if (!vendor || !oauth || scopes === undefined) return [];
  const declared = new Set(scopes.map((scope) => scope.toLowerCase()));
  const title = vendor.name === "gmail" ? "Gmail" : "Office365";
  // The preset data names registered codes (test/declaration/generated.test.ts checks them).
  const ownCode = `${vendor.name}-scopes` as ProblemCode;
  const rejected = vendor.rejectedScopes
    .filter((entry) => declared.has(entry.scope.toLowerCase()))
    .map((entry) => {
      const written =
        scopes.find((scope) => scope.toLowerCase() === entry.scope.toLowerCase()) ?? entry.scope;
      return {
        severity: "error" as const,
        code: (entry.code ?? ownCode) as ProblemCode,
        path: scopePath(auth, written),
        message: `the scope "${written}" ${entry.why}`,
        hint: `Remove "${written}" from auth.scopes.`,
      };
    });
  // An app-only token has its own scope (office365-app-scopes); refresh-token scopes do not apply.
  if (appOnly) return rejected;
  const missing = vendor.requiredScopes.filter(
    (required) => !required.anyOf.some((scope) => declared.has(scope.toLowerCase())),
  );
  if (missing.length === 0) return rejected;
  const named = missing.map((required) => required.anyOf[0]).join(" and ");
  const spellings = missing
    .filter((required) => required.anyOf.length > 1)
    .map((required) => ` (${required.anyOf.slice(1).join(", ")} also works for ${required.anyOf[0]})`)
    .join("");
  return [
    ...rejected,
    {
      severity: "error",
      code: ownCode,
      path: "/auth/scopes",
      message: `${title} OAuth scopes lack ${named}`,
      hint: `Add ${missing.map((required) => `${required.anyOf[0]}: ${required.why}`).join("; ")}.${spellings}`,
    },
  ];
};
