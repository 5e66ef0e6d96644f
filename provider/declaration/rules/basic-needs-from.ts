import type { Rule } from "./view.js";

/** `basic-needs-from`: with Basic auth there is no ID token to take the From address from. */
export const basicNeedsFrom: Rule = ({ auth, from }) =>
  auth?.method === "basic" && from?.address === undefined
    ? [
        {
          severity: "error",
          code: "basic-needs-from",
          path: from ? "/from" : "",
          message: "Basic authentication needs from.address: there is no ID token to take it from",
          hint: "Add from.address, the sender address the SMTP account may send as.",
        },
      ]
    : [];
