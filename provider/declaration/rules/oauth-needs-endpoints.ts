import type { Rule, RuleProblem } from "./view.js";

/** `missing-endpoints`: without an issuer to discover them, the flow needs its endpoints declared. */
export const oauthNeedsEndpoints: Rule = ({ oauth, auth, preset }) => {
  if (!oauth || !auth) return [];
  // A service account's key names its token endpoint.
  if (auth.flow === "service-account") return [];
  const issuer = auth.issuer ?? preset?.issuer;
  if (issuer !== undefined) return [];
  const problems: RuleProblem[] = [];
  if (auth.flow === "client-credentials") {
    return auth.tokenEndpoint === undefined
      ? [
          {
            severity: "error",
            code: "missing-endpoints",
            path: "/auth",
            message: "flow client-credentials without an issuer needs auth.tokenEndpoint",
            hint: "Add auth.issuer to discover it, or declare auth.tokenEndpoint.",
          },
        ]
      : [];
  }
  if (auth.authorizationEndpoint === undefined || auth.tokenEndpoint === undefined) {
    problems.push({
      severity: "error",
      code: "missing-endpoints",
      path: "/auth",
      message: "OAuth without an issuer needs both auth.authorizationEndpoint and auth.tokenEndpoint",
      hint: "Add auth.issuer to discover the endpoints, or declare both endpoints.",
    });
  }
  if (auth.flow === "device" && auth.deviceAuthorizationEndpoint === undefined) {
    problems.push({
      severity: "error",
      code: "missing-endpoints",
      path: "/auth",
      message: "the device flow without an issuer needs auth.deviceAuthorizationEndpoint",
      hint: "Add auth.issuer to discover it, or declare auth.deviceAuthorizationEndpoint.",
    });
  }
  return problems;
};
