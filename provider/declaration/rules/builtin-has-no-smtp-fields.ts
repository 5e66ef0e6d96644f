import type { Rule } from "./view.js";

/** `builtin-extra-fields`: the built-in mail server takes no SMTP, auth, sender or preset settings. */
export const builtinHasNoSmtpFields: Rule = ({ root }) =>
  root.server !== "builtin"
    ? []
    : ["preset", "smtp", "auth", "from", "replyTo"]
        .filter((field) => root[field] !== undefined)
        .map((field) => ({
          severity: "error",
          code: "builtin-extra-fields",
          path: `/${field}`,
          at: "key",
          message: `server: builtin uses the identity service's own mail server, so ${field} does not apply`,
          hint: `Remove ${field}, or set server: custom.`,
          supersedesSchema: true,
        }));
