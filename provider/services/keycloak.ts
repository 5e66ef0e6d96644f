/**
 * Keycloak: a realm's email settings (Realm settings, Email) through the admin REST API, with
 * `@keycloak/keycloak-admin-client`, authenticated as a confidential client of `adminRealm` with
 * the client credentials grant (its service account needs realm-management manage-realm and
 * view-realm).
 *
 * - read: `GET /admin/realms/{realm}` (its `smtpServer`, secrets masked);
 * - apply/clear: `PUT /admin/realms/{realm}` with only `smtpServer` (one transaction: it is saved
 *   whole or not at all);
 * - test: `POST /admin/realms/{realm}/testSMTPConnection` with a settings map; Keycloak sends its
 *   test message to the calling admin account's email, and uses its stored secret where the map
 *   carries the mask.
 * @see https://www.keycloak.org/docs-api/latest/rest-api/index.html#_realms_admin
 */
import KeycloakAdminClient from "@keycloak/keycloak-admin-client";
import { decodeJwt } from "jose";
import type { NormalizedService } from "../declaration/normalize.js";
import { MailServerError } from "../errors.js";
import { KEYCLOAK_SECRET_MASK, liveSetting, type SmtpServerMap, smtpServerMap } from "./keycloak-settings.js";
import type {
  ConnectServiceOptions,
  IdentityServiceConnection,
  LiveEmailSetting,
  ServiceEmailSetting,
} from "./service.js";

const DEFAULT_TIMEOUT_MS = 15_000;

/**
 * Logs in as the admin client and returns the realm's connection. Throws `service-unreachable`,
 * `service-auth-failed` or `service-realm-not-found` (for adminRealm).
 * @example
 * const keycloak = await connectKeycloak(normalized.service, secret);
 * const live = await keycloak.read();
 */
export async function connectKeycloak(
  service: NormalizedService,
  clientSecret: string,
  options: ConnectServiceOptions = {},
): Promise<IdentityServiceConnection> {
  const { realm } = service;
  const label = `Keycloak realm ${realm} at ${service.url}`;
  const admin = new KeycloakAdminClient({
    baseUrl: service.url,
    realmName: service.adminRealm,
    timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  });
  try {
    await admin.auth({ grantType: "client_credentials", clientId: service.clientId, clientSecret });
  } catch (error) {
    throw keycloakError(error, service, "login");
  }
  const readMap = async (): Promise<SmtpServerMap> => {
    try {
      const representation = await admin.realms.findOne({ realm });
      if (!representation) throw notFound(service, realm);
      return { ...(representation.smtpServer as SmtpServerMap | undefined) };
    } catch (error) {
      throw keycloakError(error, service, "read");
    }
  };
  // One read of the realm per connection until it writes: a test then an apply (or drift's read
  // then --service-test) would otherwise fetch the whole realm representation twice.
  let known: Promise<SmtpServerMap> | undefined;
  const currentMap = (): Promise<SmtpServerMap> => {
    known ??= readMap().catch((error: unknown) => {
      known = undefined;
      throw error;
    });
    return known;
  };
  const write = async (map: SmtpServerMap, what: string): Promise<void> => {
    known = undefined;
    try {
      await admin.realms.update({ realm }, { smtpServer: map });
    } catch (error) {
      const failure = keycloakError(error, service, "write");
      if (failure.code !== "service-write-failed") throw failure;
      // Say what the realm was left with: read it again rather than assume.
      const left = await readMap().then(
        (current) => `the realm keeps ${describeMap(current)}`,
        () => "the realm's settings could not be read back",
      );
      throw new MailServerError(
        "service-write-failed",
        `${label} did not save ${what}: ${failure.message}; ${left}`,
        {
          field: "service",
          cause: failure,
        },
      );
    }
  };
  return {
    label,
    async read(): Promise<LiveEmailSetting> {
      return liveSetting(await currentMap());
    },
    async apply(setting: ServiceEmailSetting): Promise<void> {
      await write(smtpServerMap(setting, await currentMap()), "the email settings");
    },
    async clear(): Promise<void> {
      await write({}, "the cleared email settings");
    },
    async test(setting?: ServiceEmailSetting) {
      // Keycloak sends to the caller's email; its access token says whether there is one.
      const claims = decodeJwt(admin.accessToken ?? "");
      const to = typeof claims.email === "string" ? claims.email : undefined;
      const emailScope = String(claims.scope ?? "")
        .split(" ")
        .includes("email");
      if (!to && emailScope) throw adminEmailMissing(service, label);
      const current = await currentMap();
      const map = setting ? smtpServerMap(setting, current) : current;
      try {
        await admin.realms.testSMTPConnection({ realm }, map);
      } catch (error) {
        const failure = keycloakError(error, service, "test");
        // Access errors keep their codes; any other refusal is Keycloak failing to send.
        if (failure.code !== "service-write-failed") throw failure;
        const reason = String(failure.details.reply ?? failure.message);
        throw new MailServerError(
          "service-test-failed",
          `${label} could not send its test email ${setting ? "with the new setting" : "with its stored setting"} (${describeMap(map)})${to ? ` to ${to}` : ""}: Keycloak says "${reason}"${
            to ? "" : "; if the admin client's service account user has no email, set one"
          }`,
          { field: setting ? "service" : "auth", cause: failure },
        );
      }
      return to ? { to } : {};
    },
  };
}

type Step = "login" | "read" | "write" | "test";

/** Turns an admin-client failure into a coded error whose remedy fits what Keycloak answered. */
function keycloakError(error: unknown, service: NormalizedService, step: Step): MailServerError {
  if (error instanceof MailServerError) return error;
  const where = `Keycloak at ${service.url}`;
  const response = (error as { response?: Response }).response;
  if (!response) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const name = (error as Error)?.name;
    const reason =
      name === "TimeoutError" || name === "AbortError"
        ? "no answer in time"
        : (cause?.code ?? cause?.message ?? (error as Error)?.message ?? String(error));
    return new MailServerError("service-unreachable", `${where} could not be reached (${reason})`, {
      field: "service.url",
      cause: error,
    });
  }
  const data = (error as { responseData?: unknown }).responseData;
  const text = replyText(data);
  const status = response.status;
  if (step === "login") {
    if (status === 404 && /realm does not exist/i.test(text)) return notFound(service, service.adminRealm);
    if (status === 400 || status === 401) {
      return new MailServerError(
        "service-auth-failed",
        `${where} refused the admin client ${service.clientId} of realm ${service.adminRealm}: ${text} (HTTP ${status})`,
        { field: "service.clientSecret", details: { status } },
      );
    }
    return new MailServerError(
      "service-unreachable",
      `${where} has no Keycloak token endpoint for realm ${service.adminRealm} (HTTP ${status}: ${text})`,
      { field: "service.url", details: { status } },
    );
  }
  if (status === 401 || status === 403) {
    return new MailServerError(
      "service-forbidden",
      `the service account of ${service.clientId} may not ${step === "read" ? "read" : "manage"} realm ${service.realm} at ${service.url} (HTTP ${status})`,
      {
        field: "service.clientId",
        details: { status },
        ...(service.adminRealm !== service.realm && {
          remedy: `Give the client's service account, in realm ${service.adminRealm}, the roles manage-realm and view-realm of the client ${service.realm}-realm.`,
        }),
      },
    );
  }
  if (status === 404) return notFound(service, service.realm);
  return new MailServerError("service-write-failed", text ? `${text} (HTTP ${status})` : `HTTP ${status}`, {
    field: "service",
    details: { status, reply: text },
  });
}

function notFound(service: NormalizedService, realm: string): MailServerError {
  return new MailServerError("service-realm-not-found", `Keycloak at ${service.url} has no realm ${realm}`, {
    field: realm === service.realm ? "service.realm" : "service.adminRealm",
  });
}

function adminEmailMissing(service: NormalizedService, label: string): MailServerError {
  return new MailServerError(
    "service-admin-email-missing",
    `${label} sends its test email to the admin account, and the service account of ${service.clientId} has no email`,
    {
      field: "service.clientId",
      remedy: `Set an email on the user service-account-${service.clientId} in realm ${service.adminRealm} (Users, service-account-${service.clientId}, Email), or remove testEmail.`,
    },
  );
}

/** Keycloak's reply text: `errorMessage`, `error_description` or `error` (never a secret). */
function replyText(data: unknown): string {
  if (typeof data === "string") return data.slice(0, 300);
  if (data && typeof data === "object") {
    const record = data as Record<string, unknown>;
    const parts = [record.error, record.error_description, record.errorMessage].filter(
      (part): part is string => typeof part === "string" && part !== "",
    );
    return parts.join(": ");
  }
  return "";
}

/** The settings for a message, without secrets. */
function describeMap(map: SmtpServerMap): string {
  if (!map.host) return "no email settings";
  const protocol = map.ssl === "true" ? "SSL" : map.starttls === "true" ? "StartTLS" : "plain";
  const login =
    map.auth === "true" ? ` as ${map.user ?? "(no user)"}${map.authType === "token" ? " (token)" : ""}` : "";
  const secret = map.password ?? map.authTokenClientSecret;
  const stored = secret === KEYCLOAK_SECRET_MASK ? ", stored secret" : "";
  return `${map.host}:${map.port ?? "(default port)"} ${protocol}${login}${stored}`;
}
