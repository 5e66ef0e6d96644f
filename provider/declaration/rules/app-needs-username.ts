import type { Rule } from "./view.js";

/** `app-needs-username`: an app-only token has no person's email: the mailbox must be declared. */
export const appNeedsUsername: Rule = ({ appOnly, auth }) =>
  appOnly && auth?.username === undefined
    ? [
        {
          severity: "error",
          code: "app-needs-username",
          path: "/auth",
          message: `flow ${String(auth?.flow)} needs auth.username: the mailbox to send as`,
          hint: "Add auth.username: the sending mailbox's address, for example no-reply@contoso.com.",
        },
      ]
    : [];
