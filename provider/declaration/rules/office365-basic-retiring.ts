import type { Rule } from "./view.js";

/**
 * `office365-basic-retiring` (a warning): Microsoft turns Basic authentication for SMTP off by
 * default for existing tenants at the end of December 2026 (new tenants cannot use it), and
 * announced its final removal for the second half of 2027.
 * @see https://learn.microsoft.com/exchange/clients-and-mobile-in-exchange-online/deprecation-of-basic-authentication-exchange-online
 */
export const office365BasicRetiring: Rule = ({ preset, auth }) =>
  preset?.name === "office365" && auth?.method === "basic"
    ? [
        {
          severity: "warning",
          code: "office365-basic-retiring",
          path: "/auth/method",
          message:
            "Microsoft turns Basic authentication for SMTP off by default for existing tenants at the end of December 2026 (new tenants cannot use it)",
          hint: "Switch to auth.method: oauth (preset office365) and run `mailserver authorize FILE --out FILE.json`.",
        },
      ]
    : [];
