// The OAuth steps' public surface: re-exports only.
export { type AuthorizationPrompt, type AuthorizeOptions, authorize, type Grant } from "./authorize.js";
export { type ClientOptions, type ConfiguredClient, configureClient, TENANT_PLACEHOLDER } from "./client.js";
export { type DevicePrompt, pollDeviceFlow, runDeviceFlow, startDeviceFlow } from "./device-flow.js";
export {
  type DiscoverOptions,
  discoverIssuer,
  type IssuerMetadata,
  resolveEndpoints,
} from "./discover.js";
export { DEFAULT_HTTP_TIMEOUT_MS, isLoopbackHost } from "./http.js";
export {
  checkTenant,
  emailFromClaims,
  type Identity,
  identityFromClaims,
  nonSecretClaims,
} from "./id-token.js";
export {
  authorizationParameters,
  DEFAULT_LOOPBACK_TIMEOUT_MS,
  DEFAULT_REDIRECT_URI,
  type LoopbackPrompt,
  runLoopbackFlow,
} from "./loopback-flow.js";
export { OAUTH_REMEDIES, type OAuthRemedy, oauthFailure, remedyFor, toMailServerError } from "./remedies.js";
export {
  type RefreshedGrant,
  type RefreshGrantOptions,
  type RevokeGrantOptions,
  refreshGrant,
  revokeGrant,
} from "./tokens.js";
