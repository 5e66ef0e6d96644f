import type { Rule } from "./view.js";

/** `client-credentials-auth`: the client authenticates with exactly one of a secret and an assertion. */
export const clientCredentialsAuth: Rule = ({ auth }) => {
  if (auth?.flow !== "client-credentials") return [];
  const both = auth.clientSecret !== undefined && auth.clientAssertion !== undefined;
  const neither = auth.clientSecret === undefined && auth.clientAssertion === undefined;
  if (!both && !neither) return [];
  return [
    {
      severity: "error",
      code: "client-credentials-auth",
      path: both ? "/auth/clientAssertion" : "/auth",
      ...(both && { at: "key" as const }),
      message: both
        ? "flow client-credentials takes auth.clientSecret or auth.clientAssertion, not both"
        : "flow client-credentials needs auth.clientSecret or auth.clientAssertion",
      hint: "Prefer auth.clientAssertion (a certificate credential, private_key_jwt) to a client secret.",
    },
  ];
};
