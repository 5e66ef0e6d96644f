import type { Rule } from "./view.js";

/** `office365-username`: Microsoft needs the sending mailbox as the XOAUTH2 user. */
export const office365NeedsUsername: Rule = ({ preset, oauth, appOnly, auth }) =>
  preset?.name === "office365" && oauth && !appOnly && auth?.username === undefined
    ? [
        {
          severity: "error",
          code: "office365-username",
          path: "/auth",
          message: "Office365 OAuth needs auth.username: the mailbox that sends (SMTP AUTH XOAUTH2 user)",
          hint: "Add auth.username: the sending mailbox's address, for example no-reply@contoso.com.",
        },
      ]
    : [];
