/**
 * The declared setting against the one the service has: which fields differ, with both values.
 * Pure. Secrets are compared only as "stored or not" (the service masks them), never shown.
 */
import type { NormalizedDeclaration } from "../declaration/normalize.js";
import type { LiveEmailSetting } from "./service.js";

/** One declared field whose live value differs. Values are shown to people: never secrets. */
export interface ServiceMismatch {
  /** The declaration field, dotted (`smtp.host`). */
  field: string;
  declared: string | number | null;
  live: string | number | null;
}

/**
 * @example
 * serviceMismatches(normalized, await service.read()) // [{ field: "smtp.host", declared: "smtp.example.com", live: "smtp.other.com" }]
 */
export function serviceMismatches(
  declared: NormalizedDeclaration,
  live: LiveEmailSetting,
): ServiceMismatch[] {
  const out: ServiceMismatch[] = [];
  const differ = (field: string, want: string | number | undefined, have: string | number | undefined) => {
    const normal = (value: string | number | undefined) =>
      typeof value === "string" && value !== "" ? value : typeof value === "number" ? value : null;
    const a = normal(want);
    const b = normal(have);
    const same =
      typeof a === "string" && typeof b === "string" && (field === "smtp.host" || field.endsWith("address"))
        ? a.toLowerCase() === b.toLowerCase()
        : a === b;
    if (!same) out.push({ field, declared: a, live: b });
  };
  if (declared.server === "builtin") {
    if (live.configured) differ("server", "builtin (no email settings)", `custom (${live.host})`);
    return out;
  }
  if (!live.configured) {
    differ("server", `custom (${declared.smtp.host})`, "no email settings");
    return out;
  }
  differ("smtp.host", declared.smtp.host, live.host);
  differ("smtp.port", declared.smtp.port, live.port);
  differ("smtp.protocol", declared.smtp.protocol, live.protocol);
  const auth = declared.auth;
  const liveMethod =
    live.auth.method === "client-credentials" ? "oauth (client credentials)" : live.auth.method;
  const declaredMethod = auth.method === "basic" ? "basic" : "oauth (client credentials)";
  differ("auth.method", declaredMethod, liveMethod);
  if (live.auth.method !== "none" && auth.username !== undefined) {
    differ("auth.username", auth.username, live.auth.username);
  }
  if (auth.method === "basic" && live.auth.method === "basic" && !live.auth.passwordStored) {
    differ("auth.password", "(a secret)", "(none stored)");
  }
  if (auth.method === "oauth" && live.auth.method === "client-credentials") {
    // The token endpoint may come from discovery: compared only when declared.
    if (auth.tokenEndpoint !== undefined)
      differ("auth.tokenEndpoint", auth.tokenEndpoint, live.auth.tokenUrl);
    differ("auth.clientId", auth.clientId, live.auth.clientId);
    differ("auth.scopes", [...auth.scopes].sort().join(" "), [...live.auth.scopes].sort().join(" "));
    if (!live.auth.clientSecretStored) differ("auth.clientSecret", "(a secret)", "(none stored)");
  }
  if (declared.from.address !== undefined) differ("from.address", declared.from.address, live.from.address);
  differ("from.name", declared.from.name, live.from.name);
  differ("replyTo", declared.replyTo, live.replyTo);
  return out;
}
