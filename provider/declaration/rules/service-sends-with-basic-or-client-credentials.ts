import type { Rule } from "./view.js";

/**
 * `service-unsupported-auth`: an identity service stores the setting and logs in by itself, so it
 * can only hold what needs no person: a password (Basic), or an OAuth client it runs the client
 * credentials grant with (Keycloak's `authType: token`). A delegated grant (loopback or device
 * flow: a person's refresh token) cannot be stored there.
 */
export const serviceSendsWithBasicOrClientCredentials: Rule = ({ service, auth, oauth }) => {
  if (!service || !oauth || auth?.flow === "client-credentials") return [];
  const flow = typeof auth?.flow === "string" ? auth.flow : "loopback";
  return [
    {
      severity: "error",
      code: "service-unsupported-auth",
      path: auth?.flow === undefined ? "/auth/method" : "/auth/flow",
      message: `the identity service (service.type ${String(service.type)}) sends only with Basic auth or OAuth client credentials; a ${flow} grant is a person's refresh token, which it cannot store`,
      hint: "Use auth.method: basic (username and password), or auth.method: oauth with auth.flow: client-credentials; or remove service to keep the setting in Pulumi state only.",
    },
  ];
};
