import type { Rule } from "./view.js";

/**
 * `service-unsupported-auth`: an identity service stores the setting and logs in by itself, so it
 * can only hold what needs no person: a password (Basic), or an OAuth client it runs the client
 * credentials grant with, authenticated by a client secret (Keycloak's `authType: token` posts
 * client_id and client_secret). A delegated grant (loopback or device flow: a person's refresh
 * token), a service account key or a client assertion cannot be stored there.
 */
export const serviceSendsWithBasicOrClientCredentials: Rule = ({ service, auth, oauth }) => {
  if (!service || !oauth) return [];
  const flow = typeof auth?.flow === "string" ? auth.flow : "loopback";
  const what =
    flow === "client-credentials"
      ? auth?.clientAssertion !== undefined && "a client assertion (private_key_jwt)"
      : flow === "service-account"
        ? "a service account key"
        : `a ${flow} grant (a person's refresh token)`;
  if (!what) return [];
  return [
    {
      severity: "error",
      code: "service-unsupported-auth",
      path:
        flow === "client-credentials"
          ? "/auth/clientAssertion"
          : auth?.flow === undefined
            ? "/auth/method"
            : "/auth/flow",
      message: `the identity service (service.type ${String(service.type)}) sends only with Basic auth or OAuth client credentials with a client secret; it cannot store ${what}`,
      hint: "Use auth.method: basic (username and password), or auth.flow: client-credentials with auth.clientSecret; or remove service to keep the setting in Pulumi state only.",
    },
  ];
};
