// The OAuth steps' surface for the lifecycle and the tests: re-exports only. The modules'
// internals (the client configuration, the flows' pieces, the fetch seam) are imported from
// their own files by the few modules that need them.
export { type AuthorizationPrompt, type AuthorizeOptions, authorize, type Grant } from "./authorize.js";
export type { DevicePrompt } from "./device-flow.js";
export { type DiscoverOptions, discoverIssuer, type IssuerMetadata, resolveEndpoints } from "./discover.js";
export { nonSecretClaims } from "./id-token.js";
export type { LoopbackPrompt } from "./loopback-flow.js";
export { OAUTH_REMEDIES, type OAuthRemedy, oauthFailure, remedyFor } from "./remedies.js";
export {
  type RefreshedGrant,
  type RefreshGrantOptions,
  type RevokeGrantOptions,
  refreshGrant,
  revokeGrant,
} from "./tokens.js";
export { type Identity, identityFromClaims } from "./username.js";
