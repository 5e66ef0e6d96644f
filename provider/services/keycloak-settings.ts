/**
 * Keycloak's realm email settings (`RealmRepresentation.smtpServer`, a map of strings) to and
 * from the service-neutral setting. Pure: no network.
 *
 * Keys: host, port, ssl (implicit TLS), starttls, auth, user, password, from, fromDisplayName,
 * replyTo, replyToDisplayName, envelopeFrom; since 26.2 authType (basic | token) with
 * authTokenUrl, authTokenClientId, authTokenClientSecret, authTokenScope. Secrets come back masked.
 * @see https://www.keycloak.org/docs-api/latest/rest-api/index.html#RealmRepresentation
 */
import type { LiveEmailSetting, ServiceEmailSetting } from "./service.js";

export type SmtpServerMap = Record<string, string>;

/** What Keycloak returns instead of a stored secret; sent back, it means "keep (or use) the stored one". */
export const KEYCLOAK_SECRET_MASK = "**********";

/** The keys this tool writes; any other key (envelopeFrom, replyToDisplayName, ...) is left as it is. */
const MANAGED_KEYS = [
  "host",
  "port",
  "ssl",
  "starttls",
  "auth",
  "user",
  "password",
  "authType",
  "authTokenUrl",
  "authTokenClientId",
  "authTokenClientSecret",
  "authTokenScope",
  "from",
  "fromDisplayName",
  "replyTo",
] as const;

/**
 * The map to write: the setting's keys over the current map, so keys this tool does not manage
 * stay as they are (applying an imported declaration changes nothing).
 */
export function smtpServerMap(setting: ServiceEmailSetting, current: SmtpServerMap = {}): SmtpServerMap {
  const next: SmtpServerMap = { ...current };
  for (const key of MANAGED_KEYS) delete next[key];
  Object.assign(next, {
    host: setting.host,
    port: String(setting.port),
    ssl: String(setting.protocol === "tls"),
    starttls: String(setting.protocol === "starttls"),
    auth: "true",
    user: setting.auth.username,
    from: setting.from.address,
    ...(setting.from.name !== undefined &&
      setting.from.name !== "" && { fromDisplayName: setting.from.name }),
    ...(setting.replyTo !== undefined && { replyTo: setting.replyTo }),
  });
  if (setting.auth.method === "basic") {
    next.password = setting.auth.password;
    // Keycloak before 26.2 has no authType; absent means basic. Keep the key only where it was.
    if (current.authType !== undefined) next.authType = "basic";
  } else {
    Object.assign(next, {
      authType: "token",
      authTokenUrl: setting.auth.tokenUrl,
      authTokenClientId: setting.auth.clientId,
      authTokenClientSecret: setting.auth.clientSecret,
      authTokenScope: setting.auth.scopes.join(" "),
    });
  }
  return next;
}

/** The live setting of a map as Keycloak returns it (secrets masked or absent). */
export function liveSetting(map: SmtpServerMap | undefined): LiveEmailSetting {
  if (!map?.host) return { configured: false };
  const ssl = map.ssl === "true";
  const starttls = map.starttls === "true";
  const protocol = ssl ? "tls" : starttls ? "starttls" : "plain";
  // Keycloak (Jakarta Mail) connects to 465 with SSL and to 25 otherwise when no port is set.
  const port = map.port ? Number(map.port) : ssl ? 465 : 25;
  const username = map.user ?? "";
  const auth: Extract<LiveEmailSetting, { configured: true }>["auth"] =
    map.auth !== "true"
      ? { method: "none" }
      : map.authType === "token"
        ? {
            method: "client-credentials",
            username,
            tokenUrl: map.authTokenUrl ?? "",
            clientId: map.authTokenClientId ?? "",
            scopes: (map.authTokenScope ?? "").split(/\s+/).filter((scope) => scope !== ""),
            clientSecretStored: Boolean(map.authTokenClientSecret),
          }
        : { method: "basic", username, passwordStored: Boolean(map.password) };
  return {
    configured: true,
    host: map.host,
    port,
    protocol,
    auth,
    from: {
      ...(map.from && { address: map.from }),
      ...(map.fromDisplayName && { name: map.fromDisplayName }),
    },
    ...(map.replyTo && { replyTo: map.replyTo }),
  };
}
