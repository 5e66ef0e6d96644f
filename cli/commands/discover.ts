import type { IssuerMetadata } from "../../provider/oauth/discover.js";
import { type CliIO, formatOption, UsageError, writeJson } from "../io.js";
import { parseCommandArgs } from "../parse-args.js";

export const usage = `Usage: mailserver discover ISSUER_URL [--format text|json]

Fetches the OAuth issuer's configuration ("Fetch Configuration"): OpenID Connect Discovery, else
RFC 8414 authorization server metadata. Plain http is accepted only for loopback hosts.

Options:
  --format text|json  endpoints for people (default), or one JSON document with the keys issuer,
                      authorizationEndpoint, tokenEndpoint, deviceAuthorizationEndpoint,
                      revocationEndpoint, userinfoEndpoint, jwksUri, scopesSupported,
                      codeChallengeMethodsSupported, grantTypesSupported (null where absent)

Exit codes: 0 discovered, 1 discovery failed (unreachable, timeout, not JSON, issuer mismatch), 2 usage error.
`;

// Typed by the JSON keys, so a key added to IssuerMetadata cannot go without its label.
const LABELS: Record<keyof IssuerMetadata, string> = {
  issuer: "Issuer",
  authorizationEndpoint: "Authorization endpoint",
  tokenEndpoint: "Token endpoint",
  deviceAuthorizationEndpoint: "Device authorization endpoint",
  revocationEndpoint: "Revocation endpoint",
  userinfoEndpoint: "Userinfo endpoint",
  jwksUri: "JWKS URI",
  scopesSupported: "Scopes supported",
  codeChallengeMethodsSupported: "PKCE methods",
  grantTypesSupported: "Grant types",
};

export async function run(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { format: { type: "string", default: "text" } });
  const format = formatOption(values.format, ["text", "json"]);
  if (positionals.length !== 1) throw new UsageError("discover needs exactly one ISSUER_URL");
  const issuerUrl = positionals[0] as string;
  let url: URL;
  try {
    url = new URL(issuerUrl);
  } catch {
    throw new UsageError(`${issuerUrl} is not a URL`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:")
    throw new UsageError(`${issuerUrl} is not an http(s) URL`);

  const { discoverIssuer } = await import("../../provider/oauth/discover.js");
  const metadata = await discoverIssuer(issuerUrl);
  if (format === "json") {
    writeJson(io, metadata);
    return 0;
  }
  const width = Math.max(...Object.values(LABELS).map((label) => label.length));
  for (const [key, label] of Object.entries(LABELS) as [keyof IssuerMetadata, string][]) {
    const value = metadata[key];
    const shown = value === null ? "(none)" : Array.isArray(value) ? value.join(" ") : value;
    io.stdout.write(`${`${label}:`.padEnd(width + 2)}${shown}\n`);
  }
  return 0;
}
