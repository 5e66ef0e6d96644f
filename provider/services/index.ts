/**
 * The identity services that can store the setting, by `service.type`. Each module is loaded only
 * when a declaration names its type, so nothing else ever loads a service's admin client.
 */
import type { NormalizedService } from "../declaration/normalize.js";
import type { ConnectServiceOptions, IdentityServiceConnection } from "./service.js";

export type * from "./service.js";

/**
 * Connects to the declared service as its admin client (the client secret resolved by the caller).
 * @example
 * const service = await connectService(normalized.service, await secret(normalized.service.clientSecret, "service.clientSecret"));
 */
export async function connectService(
  service: NormalizedService,
  clientSecret: string,
  options: ConnectServiceOptions = {},
): Promise<IdentityServiceConnection> {
  switch (service.type) {
    case "keycloak": {
      const { connectKeycloak } = await import("./keycloak.js");
      return connectKeycloak(service, clientSecret, options);
    }
  }
}
