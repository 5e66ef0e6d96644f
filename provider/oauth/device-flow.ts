/**
 * The OAuth 2.0 Device Authorization Grant: show a code, let a person approve it on another
 * device, poll the token endpoint no faster than the issuer allows.
 */
import * as oidc from "openid-client";
import type { NormalizedOAuthAuth } from "../declaration/normalize.js";
import { MailServerError } from "../errors.js";
import { toMailServerError } from "./remedies.js";
import type { TokenEndpointWatch } from "./token-response.js";

/** What the person must see: where to go and which code to enter. */
export interface DevicePrompt {
  kind: "device";
  verificationUri: string;
  verificationUriComplete?: string;
  userCode: string;
  /** ISO time when the code expires. */
  expiresAt: string;
}

export interface DeviceFlowOptions {
  prompt: (prompt: DevicePrompt) => void;
  /** Stops polling (the caller's overall timeout or a cancel). */
  signal?: AbortSignal;
  now?: () => number;
  /** Checks the tokens (refresh token, tenant, username); what it throws fails the flow. */
  judge?: (tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers) => Promise<void>;
  /** The token endpoint's answers, for naming a failure by what the issuer said (./token-response.ts). */
  wire?: TokenEndpointWatch;
}

/**
 * Requests a device code and user code.
 * @see RFC 8628 section 3.1-3.2
 */
export async function startDeviceFlow(
  config: oidc.Configuration,
  auth: Pick<NormalizedOAuthAuth, "scopes">,
): Promise<oidc.DeviceAuthorizationResponse> {
  if (!config.serverMetadata().device_authorization_endpoint) {
    throw new MailServerError("endpoint-missing", "the issuer publishes no device authorization endpoint", {
      field: "auth.deviceAuthorizationEndpoint",
    });
  }
  try {
    return await oidc.initiateDeviceAuthorization(config, { scope: auth.scopes.join(" ") });
  } catch (error) {
    throw toMailServerError(error, "the device authorization request", { flow: "device" });
  }
}

/**
 * Polls the token endpoint at the issuer's interval (RFC 8628 3.5: +5 s on each `slow_down`,
 * handled by openid-client) until the person approves, declines, or the code expires.
 * @see RFC 8628 section 3.4-3.5
 */
export async function pollDeviceFlow(
  config: oidc.Configuration,
  device: oidc.DeviceAuthorizationResponse,
  options: Pick<DeviceFlowOptions, "signal" | "wire"> = {},
): Promise<oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers> {
  const expiry = AbortSignal.timeout(device.expires_in * 1000);
  const signal = options.signal ? AbortSignal.any([options.signal, expiry]) : expiry;
  try {
    return await oidc.pollDeviceAuthorizationGrant(config, device, undefined, { signal });
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    if (expiry.aborted) {
      throw new MailServerError(
        "authorization-expired",
        `nobody approved the device code within its lifetime (${device.expires_in} s)`,
      );
    }
    throw options.wire
      ? options.wire.failure(error, "the device authorization", { flow: "device" })
      : toMailServerError(error, "the device authorization", { flow: "device" });
  }
}

/** The device flow from code to tokens: start, prompt, poll. */
export async function runDeviceFlow(
  config: oidc.Configuration,
  auth: Pick<NormalizedOAuthAuth, "scopes">,
  options: DeviceFlowOptions,
): Promise<oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers> {
  const device = await startDeviceFlow(config, auth);
  const now = options.now ?? Date.now;
  options.prompt({
    kind: "device",
    verificationUri: device.verification_uri,
    ...(device.verification_uri_complete && { verificationUriComplete: device.verification_uri_complete }),
    userCode: device.user_code,
    expiresAt: new Date(now() + device.expires_in * 1000).toISOString(),
  });
  const tokens = await pollDeviceFlow(config, device, {
    ...(options.signal && { signal: options.signal }),
    ...(options.wire && { wire: options.wire }),
  });
  await options.judge?.(tokens);
  return tokens;
}
