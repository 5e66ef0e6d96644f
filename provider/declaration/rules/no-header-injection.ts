import type { Rule } from "./view.js";

/** `header-injection`: a CR or LF in a name, subject or address would inject mail headers. */
export const noHeaderInjection: Rule = ({ root, from, testEmail, auth }) => {
  const fields: Array<[string, unknown]> = [
    ["/from/name", from?.name],
    ["/from/address", from?.address],
    ["/replyTo", root.replyTo],
    ["/testEmail/subject", testEmail?.subject],
    ["/auth/username", auth?.username],
    ...(Array.isArray(testEmail?.to)
      ? Array.from(testEmail.to as unknown[], (to, index): [string, unknown] => [
          `/testEmail/to/${index}`,
          to,
        ])
      : []),
  ];
  return fields
    .filter(([, value]) => typeof value === "string" && /[\r\n]/.test(value))
    .map(([path]) => ({
      severity: "error",
      code: "header-injection",
      path,
      message: `${path
        .slice(1)
        .replace(/\/(\d+)/g, "[$1]")
        .replace(/\//g, ".")} contains a line break (CR or LF), which would inject mail headers`,
      hint: "Remove the line break.",
      supersedesSchema: true,
    }));
};
