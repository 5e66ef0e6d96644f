import { LOOPBACK_HOSTS, parseUrl, type Rule } from "./view.js";

/** `redirect-not-loopback`: the loopback flow redirects to http on a loopback host only (RFC 8252 section 7.3). */
export const redirectIsLoopback: Rule = ({ oauth, auth }) => {
  // Other flows have no redirect: flow-field reports a redirectUri there.
  if (!oauth || !auth || (auth.flow ?? "loopback") !== "loopback" || auth.redirectUri === undefined)
    return [];
  const url = parseUrl(auth.redirectUri);
  if (url && url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname)) return [];
  return [
    {
      severity: "error",
      code: "redirect-not-loopback",
      path: "/auth/redirectUri",
      message: "auth.redirectUri of the loopback flow must be http on 127.0.0.1, [::1] or localhost",
      hint: "Use for example http://127.0.0.1:0/callback (port 0 takes a free port); see RFC 8252 section 7.3.",
      supersedesSchema: true,
    },
  ];
};
