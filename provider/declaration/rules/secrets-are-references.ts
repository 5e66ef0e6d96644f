import type { Rule, RuleProblem } from "./view.js";

const SECRET_FIELDS = [
  ["auth", "password"],
  ["auth", "clientSecret"],
  ["auth", "refreshToken"],
  ["service", "clientSecret"],
  ["auth", "serviceAccountKey"],
] as const;

/** `secret-literal`: secrets are references ({ env }, { file }, { config }), never values in the file. */
export const secretsAreReferences: Rule = ({ auth, service }) =>
  SECRET_FIELDS.flatMap(([parent, field]): RuleProblem[] =>
    typeof (parent === "auth" ? auth : service)?.[field] === "string"
      ? [
          {
            severity: "error",
            code: "secret-literal",
            path: `/${parent}/${field}`,
            // Never quote the value: it is a secret that was pasted into the file.
            message: `${parent}.${field} is written as a plain string; secrets must be references`,
            hint: `Write { env: NAME }, { file: PATH } or { config: KEY } instead, and remove the secret from the file and its git history.`,
            supersedesSchema: true,
          },
        ]
      : [],
  );
