/**
 * The service's live setting written as declaration fields: the whole declaration for
 * `mailserver import`, and the declared fields it differs in for `pulumi refresh` (read returns
 * them as inputs, so the next preview shows an edit made in the admin console as a diff).
 * Pure. Secrets become references: the service never returns them.
 */
import type { IdentityService, MailServerDeclaration } from "../declaration/generated/declaration.js";
import { MailServerError } from "../errors.js";
import type { ServiceMismatch } from "./mismatches.js";
import type { LiveEmailSetting } from "./service.js";

export interface DeclarationFromLiveOptions {
  name: string;
  /** The service block to write (its clientSecret a reference). */
  service: IdentityService;
  /** The environment variable the SMTP password reference names (Basic auth). */
  passwordEnv: string;
  /** The environment variable the OAuth client secret reference names (token authentication). */
  clientSecretEnv: string;
}

/**
 * The declaration of a live setting. Throws `service-setting-unsupported` for what a declaration
 * cannot say: plain SMTP (neither SSL nor StartTLS), no authentication, or no From address.
 */
export function declarationFromLive(
  live: LiveEmailSetting,
  options: DeclarationFromLiveOptions,
): MailServerDeclaration {
  const head = { version: 1 as const, name: options.name };
  if (!live.configured) return { ...head, server: "builtin", service: options.service };
  const unsupported = (what: string) =>
    new MailServerError(
      "service-setting-unsupported",
      `the realm's email settings ${what}, which a declaration cannot express`,
      {
        field: "service",
      },
    );
  if (live.protocol === "plain") throw unsupported("send over plain SMTP (neither SSL nor StartTLS is on)");
  if (live.auth.method === "none") throw unsupported("log in to the SMTP server without authentication");
  if (!live.from.address) throw unsupported("have no From address");
  const [scope, ...scopes] = live.auth.method === "client-credentials" ? live.auth.scopes : [];
  if (live.auth.method === "client-credentials" && scope === undefined)
    throw unsupported("use token authentication with no scope");
  const auth: MailServerDeclaration["auth"] =
    live.auth.method === "basic" || scope === undefined
      ? { method: "basic", username: live.auth.username, password: { env: options.passwordEnv } }
      : {
          method: "oauth",
          flow: "client-credentials",
          tokenEndpoint: live.auth.tokenUrl,
          clientId: live.auth.clientId,
          clientSecret: { env: options.clientSecretEnv },
          scopes: [scope, ...scopes],
          username: live.auth.username,
        };
  return {
    ...head,
    smtp: { host: live.host, protocol: live.protocol, port: live.port },
    auth,
    from: { ...(live.from.name !== undefined && { name: live.from.name }), address: live.from.address },
    ...(live.replyTo !== undefined && { replyTo: live.replyTo }),
    service: options.service,
  };
}

/** Fields whose live value can be written back into the declaration's inputs. */
const PATCHABLE = [
  "smtp.host",
  "smtp.port",
  "smtp.protocol",
  "auth.username",
  "from.address",
  "from.name",
  "replyTo",
];

/**
 * The declaration (as Pulumi inputs) with the live values of the fields that differ, so the next
 * preview diffs against what the service really has. A realm without settings reads as
 * `server: builtin`; a difference no field can carry (a password no longer stored) stays in the
 * resource's `drift` list.
 */
export function inputsWithLive(
  declaration: Record<string, unknown>,
  live: LiveEmailSetting,
  mismatches: ServiceMismatch[],
): Record<string, unknown> {
  if (mismatches.length === 0) return declaration;
  if (!live.configured) {
    const { smtp: _s, auth: _a, from: _f, replyTo: _r, preset: _p, ...rest } = declaration;
    return { ...rest, server: "builtin" };
  }
  const next = structuredClone(declaration);
  if (next.server === "builtin") {
    next.server = "custom";
    next.smtp = { host: live.host, protocol: live.protocol, port: live.port };
    next.from = { ...live.from };
    if (live.auth.method !== "none") next.auth = { method: live.auth.method, username: live.auth.username };
    return next;
  }
  for (const { field, live: value } of mismatches) {
    if (!PATCHABLE.includes(field)) continue;
    const [parent, key] = field.includes(".") ? (field.split(".") as [string, string]) : [undefined, field];
    if (parent !== undefined && next[parent] === undefined) next[parent] = {};
    const target = parent === undefined ? next : (next[parent] as Record<string, unknown>);
    if (value === null) delete target[key];
    else target[key] = value;
  }
  return next;
}
