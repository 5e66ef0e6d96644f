import { LOOPBACK_HOSTS, parseUrl, type Rule, type RuleProblem } from "./view.js";

const URL_FIELDS = [
  "issuer",
  "authorizationEndpoint",
  "tokenEndpoint",
  "deviceAuthorizationEndpoint",
  "revocationEndpoint",
];

/** `insecure-url`: tokens and client secrets travel to these URLs, so https (http only on loopback). */
export const urlsAreHttps: Rule = ({ oauth, auth }) => {
  if (!oauth || !auth) return [];
  return URL_FIELDS.flatMap((field): RuleProblem[] => {
    const url = parseUrl(auth[field]);
    if (!url || url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname)))
      return [];
    return [
      {
        severity: "error",
        code: "insecure-url",
        path: `/auth/${field}`,
        message: `auth.${field} must use https (http is allowed only for 127.0.0.1, [::1] and localhost)`,
        hint: "Tokens and client secrets travel to this URL: use https.",
      },
    ];
  });
};
