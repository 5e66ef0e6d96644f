/**
 * Risk flags: what a change to a declaration does beyond its diff, each with a stable code, so a
 * reviewer (or a policy) can see at once that someone must sign in again, that a connection got
 * weaker, or that mail now goes somewhere else.
 */
import { GRANT_BOUND_FIELDS } from "../declaration/fields.js";
import {
  isAppOnlyFlow,
  type NormalizedCustomDeclaration,
  type NormalizedDeclaration,
  type NormalizedService,
} from "../declaration/normalize.js";
import type { ReviewedDeclaration, ReviewField } from "./view.js";
import { sameValue } from "./view.js";

/** The risk flag codes (a contract: tools and policies match on them). */
export const RISK_CODES = [
  "grant-renewal",
  "protocol-downgrade",
  "trust-change",
  "sender-domain-change",
  "scope-expansion",
  "recipients-change",
  "server-switch",
  "service-switch",
] as const;

export type RiskCode = (typeof RISK_CODES)[number];

export interface RiskFlag {
  code: RiskCode;
  /** The setting the flag is about, dotted (`auth.scopes`). */
  field: string;
  message: string;
}

const URL_FIELDS: ReviewField[] = [
  "auth.issuer",
  "auth.authorizationEndpoint",
  "auth.tokenEndpoint",
  "auth.deviceAuthorizationEndpoint",
  "auth.revocationEndpoint",
];

/**
 * The risk flags of one change. `before` undefined: the declaration is new; `after` undefined: it
 * is removed (which puts the identity service back on its built-in mail server).
 * @example
 * riskFlags(reviewView(old), reviewView(new)) // [{ code: "grant-renewal", field: "auth.scopes", ... }]
 */
export function riskFlags(
  before: ReviewedDeclaration | undefined,
  after: ReviewedDeclaration | undefined,
): RiskFlag[] {
  const flags: RiskFlag[] = [];
  const flag = (code: RiskCode, field: string, message: string) => flags.push({ code, field, message });

  serviceSwitch(before, after, flag);
  if (!before && after) {
    const auth = custom(after.normalized)?.auth;
    if (auth?.method === "oauth" && !isAppOnlyFlow(auth.flow) && !auth.refreshToken) {
      flag(
        "grant-renewal",
        "auth",
        "a new OAuth setting without auth.refreshToken: someone must authorize it (mailserver authorize FILE) before or during pulumi up",
      );
    }
    return flags;
  }
  if (before && !after) {
    if (before.normalized.server === "custom") {
      flag(
        "server-switch",
        "server",
        "the declaration is removed: deleting the setting puts the identity service back on its built-in mail server",
      );
    }
    return flags;
  }
  if (!before || !after) return flags;

  if (before.normalized.server !== after.normalized.server) {
    flag(
      "server-switch",
      "server",
      `server changes from ${before.normalized.server} to ${after.normalized.server}: mail is sent by ${
        after.normalized.server === "builtin"
          ? "the identity service's built-in mail server"
          : "the custom SMTP server"
      }`,
    );
  }
  const old = custom(before.normalized);
  const now = custom(after.normalized);
  if (!old || !now) return flags;
  const changed = (field: ReviewField) => !sameValue(before.fields.get(field), after.fields.get(field));

  // grant-renewal: the stored grant was issued for other settings (or there was none). The
  // app-only flows have no grant: nobody needs to authorize anything for them.
  if (now.auth.method === "oauth" && !isAppOnlyFlow(now.auth.flow)) {
    if (old.auth.method !== "oauth" || isAppOnlyFlow(old.auth.flow)) {
      flag(
        "grant-renewal",
        old.auth.method === "oauth" ? "auth.flow" : "auth.method",
        old.auth.method === "oauth"
          ? `auth.flow changes from ${old.auth.flow} to ${now.auth.flow}: someone must authorize the new grant`
          : "auth.method changes to oauth: someone must authorize the new grant",
      );
    } else {
      const bound = GRANT_BOUND_FIELDS.filter(changed);
      if (bound.length > 0) {
        flag(
          "grant-renewal",
          bound.join(", "),
          `${bound.join(", ")} changed: the stored grant no longer fits, someone must authorize again (run mailserver authorize FILE)`,
        );
      }
    }
  }

  // protocol-downgrade: implicit TLS to STARTTLS, OAuth to a password, https to http.
  if (old.smtp.protocol === "tls" && now.smtp.protocol === "starttls") {
    flag(
      "protocol-downgrade",
      "smtp.protocol",
      "smtp.protocol changes from tls (implicit TLS, preferred by RFC 8314) to starttls: the session starts in plain text and is upgraded",
    );
  }
  if (old.auth.method === "oauth" && now.auth.method === "basic") {
    flag(
      "protocol-downgrade",
      "auth.method",
      "auth.method changes from oauth to basic: a long-lived password replaces revocable OAuth tokens",
    );
  }
  for (const field of URL_FIELDS) {
    const was = before.fields.get(field)?.value;
    const is = after.fields.get(field)?.value;
    if (
      typeof was === "string" &&
      typeof is === "string" &&
      was.startsWith("https:") &&
      is.startsWith("http:")
    ) {
      flag("protocol-downgrade", field, `${field} changes from https to plain http`);
    }
  }

  // trust-change: which certificates are accepted, or for which name.
  if (changed("smtp.tls.ca")) {
    const was = before.fields.get("smtp.tls.ca")?.value;
    const is = after.fields.get("smtp.tls.ca")?.value;
    flag(
      "trust-change",
      "smtp.tls.ca",
      is === undefined
        ? `smtp.tls.ca is removed (${was}): only the system's trust anchors are accepted`
        : was === undefined
          ? `smtp.tls.ca is added (${is}): certificates issued by that CA are trusted`
          : `smtp.tls.ca changes from ${was} to ${is}: another CA is trusted`,
    );
  }
  if (changed("smtp.tls.servername")) {
    flag(
      "trust-change",
      "smtp.tls.servername",
      "smtp.tls.servername changes: the certificate is checked for another name",
    );
  }

  // sender-domain-change: mail now claims to come from another domain (SPF, DKIM, DMARC, send-as rights).
  const oldDomain = domainOf(senderOf(old));
  const newDomain = domainOf(senderOf(now));
  if (oldDomain && newDomain && oldDomain !== newDomain) {
    flag(
      "sender-domain-change",
      "from.address",
      `the sender's domain changes from ${oldDomain} to ${newDomain}: check SPF, DKIM and DMARC and the mailbox's send-as rights`,
    );
  }

  // scope-expansion: the grant asks for more than before.
  if (old.auth.method === "oauth" && now.auth.method === "oauth") {
    const had = new Set(old.auth.scopes);
    const added = now.auth.scopes.filter((scope) => !had.has(scope));
    if (added.length > 0) {
      flag("scope-expansion", "auth.scopes", `auth.scopes asks for more: ${added.join(", ")}`);
    }
  }

  // recipients-change: who gets the test email, where replies to the service's mail go.
  if (changed("testEmail.to")) {
    flag(
      "recipients-change",
      "testEmail.to",
      `the test email goes to ${listOf(after, "testEmail.to")} (was ${listOf(before, "testEmail.to")})`,
    );
  }
  if (changed("replyTo")) {
    const is = after.fields.get("replyTo")?.value;
    const was = before.fields.get("replyTo")?.value;
    flag(
      "recipients-change",
      "replyTo",
      `replies to the service's mail go to ${is ?? "nobody (replies disabled)"} (was ${was ?? "replies disabled"})`,
    );
  }
  return flags;
}

/**
 * service-switch: where the setting is stored changes (another service, server or realm, or
 * none): the new realm's email settings are overwritten, the old realm's are cleared.
 */
function serviceSwitch(
  before: ReviewedDeclaration | undefined,
  after: ReviewedDeclaration | undefined,
  flag: (code: RiskCode, field: string, message: string) => void,
) {
  const was = before?.normalized.service;
  const is = after?.normalized.service;
  const where = (service: NormalizedService) => `${service.type} realm ${service.realm} at ${service.url}`;
  if (was && is && was.type === is.type && was.url === is.url && was.realm === is.realm) return;
  if (!was && !is) return;
  if (was && is) {
    flag(
      "service-switch",
      "service",
      `the setting moves from ${where(was)} to ${where(is)}: the new realm's email settings are overwritten and the old realm's cleared`,
    );
  } else if (is) {
    flag(
      "service-switch",
      "service",
      `the setting is written into ${where(is)}, overwriting the realm's email settings`,
    );
  } else if (was) {
    flag(
      "service-switch",
      "service",
      after
        ? `the setting is no longer stored in ${where(was)}: its email settings are cleared, and the setting is kept in Pulumi state only`
        : `the declaration is removed: the email settings of ${where(was)} are cleared`,
    );
  }
}

function custom(decl: NormalizedDeclaration): NormalizedCustomDeclaration | undefined {
  return decl.server === "custom" ? decl : undefined;
}

/** The declared sender: from.address, else (OAuth) an address-like username. */
function senderOf(decl: NormalizedCustomDeclaration): string | undefined {
  return decl.from.address ?? (decl.auth.username?.includes("@") ? decl.auth.username : undefined);
}

function domainOf(address: string | undefined): string | undefined {
  const at = address?.lastIndexOf("@") ?? -1;
  return address && at >= 0 ? address.slice(at + 1).toLowerCase() : undefined;
}

function listOf(view: ReviewedDeclaration, field: ReviewField): string {
  const value = view.fields.get(field)?.value;
  if (value === undefined) return "nobody";
  return Array.isArray(value) ? value.join(", ") : value;
}
