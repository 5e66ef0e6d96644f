// The JSON shapes the issues fix as contracts, written here once and literally as the issues state
// them. Deliberately not imported from the implementation: a test that compared the code with its
// own list could not notice the list drifting from the contract.

/** /tmp/issue3.md: `mailserver discover --format json` keys, in order (null where absent). */
export const DISCOVER_JSON_KEYS = [
  "issuer",
  "authorizationEndpoint",
  "tokenEndpoint",
  "deviceAuthorizationEndpoint",
  "revocationEndpoint",
  "userinfoEndpoint",
  "jwksUri",
  "scopesSupported",
  "codeChallengeMethodsSupported",
  "grantTypesSupported",
];

/** /tmp/issue4.md: `mailserver verify --format json` keys, in order. */
export const VERIFY_JSON_KEYS = [
  "ok",
  "host",
  "port",
  "protocol",
  "tls",
  "authMechanisms",
  "authenticatedAs",
  "durationMs",
  "error",
];

/** /tmp/issue4.md: the keys of verify's `tls` object, in order. */
export const VERIFY_TLS_JSON_KEYS = [
  "version",
  "cipher",
  "subject",
  "issuer",
  "fingerprint256",
  "validTo",
  "daysLeft",
];

/** /tmp/issue4.md: `mailserver test-email --format json` keys, in order. */
export const TEST_EMAIL_JSON_KEYS = [
  "ok",
  "messageId",
  "accepted",
  "rejected",
  "response",
  "durationMs",
  "error",
];

/**
 * /tmp/issue5.md: the outputs kept "as Pulumi secrets: refresh token, password, client secret, and
 * a ready-to-use `transport` object" (registered through `additionalSecretOutputs`).
 */
export const SECRET_OUTPUTS = ["refreshToken", "password", "clientSecret", "transport"];
