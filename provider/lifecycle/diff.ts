/**
 * `diff`: which declared fields changed, whether the grant must be renewed, and whether the
 * resource must be replaced. A new `name` (the identity of the setting) or another service, URL or
 * realm (where it is stored) replaces; changing
 * issuer, client, scopes or flow means someone must authorize again; from, replyTo and testEmail
 * need no new grant. Secret values are compared, never shown.
 */
import { GRANT_BOUND_FIELDS } from "../declaration/fields.js";
import { isAppOnlyFlow, type OAuthFlow, scopeList } from "../declaration/normalize.js";
import { UNKNOWN } from "./check.js";
import { splitInputs } from "./state.js";

/**
 * Inputs whose change invalidates the stored grant (dotted paths). Diffs compare raw inputs, not
 * normalized settings as reviews do, so a preset (which supplies issuer and scopes), the method
 * and the server count too.
 */
const GRANT_FIELDS = [...GRANT_BOUND_FIELDS, "auth.method", "server", "preset"] as const;

/**
 * Inputs whose change replaces the resource: the setting's identity (`name`), and where it is
 * stored (`service`: another service, server or realm). A replacement writes the new realm first,
 * then the old resource's delete clears the old one.
 */
const REPLACING_FIELDS = ["name", "service", "service.type", "service.url", "service.realm"];

export interface MailServerDiff {
  changes: boolean;
  /** Dotted paths of the changed fields (`auth.scopes`, `from.address`, `secretValues` for a changed secret). */
  changed: string[];
  /** The changed fields that need a new grant (empty when the stored grant can be kept). */
  grantRenewal: string[];
  replaces: string[];
  /** The new setting uses delegated OAuth (so it has a grant to keep or renew; the app-only flows have none). */
  oauth: boolean;
  /** Some new value is unknown (preview): the diff may be incomplete. */
  unknown: boolean;
}

/** Compares the state (old outputs, which echo the old inputs) with the new inputs. */
export function diffMailServer(olds: Record<string, unknown>, news: Record<string, unknown>): MailServerDiff {
  const before = splitInputs(olds);
  const after = splitInputs(news);
  const changed: string[] = [];
  let unknown = false;
  const walk = (a: unknown, b: unknown, path: string) => {
    if (b === UNKNOWN) {
      unknown = true;
      changed.push(path);
      return;
    }
    if (isObject(a) && isObject(b)) {
      for (const key of new Set([...Object.keys(a), ...Object.keys(b)]))
        walk(a[key], b[key], path ? `${path}.${key}` : key);
      return;
    }
    if (path === "auth.scopes" && isScopes(a) && isScopes(b)) {
      const left = scopeList(a);
      const right = scopeList(b);
      if (left.length !== right.length || left.some((scope) => !right.includes(scope))) changed.push(path);
      return;
    }
    if (JSON.stringify(a) !== JSON.stringify(b)) changed.push(path);
  };
  walk(before.declaration, after.declaration, "");
  if (before.baseDir !== after.baseDir) changed.push("baseDir");
  if (JSON.stringify(sorted(before.secretValues)) !== JSON.stringify(sorted(after.secretValues))) {
    changed.push("secretValues");
  }
  // A refresh that found drift: the live setting must be applied again.
  const drift = Array.isArray(olds.drift) ? (olds.drift as { code?: unknown }[]) : [];
  for (const finding of drift) changed.push(`drift.${String(finding.code)}`);
  const auth = after.declaration.auth as Record<string, unknown> | undefined;
  // The app-only flows keep no grant: nothing to renew, nobody to ask.
  const grant = auth?.method === "oauth" && !isAppOnlyFlow(auth.flow as OAuthFlow | undefined);
  const grantRenewal = grant
    ? changed.filter(
        (path) =>
          path === "drift.grant-revoked" ||
          GRANT_FIELDS.some((field) => path === field || path.startsWith(`${field}.`)),
      )
    : [];
  const replaces = changed.filter((path) => REPLACING_FIELDS.includes(path));
  return { changes: changed.length > 0, changed, grantRenewal, replaces, oauth: grant, unknown };
}

/** One line per diff for the resource's diagnostics: readable at default verbosity. */
export function describeDiff(name: string, diff: MailServerDiff): string | undefined {
  if (!diff.changes) return undefined;
  const fields = diff.changed.map((path) => (path === "secretValues" ? "a secret value" : path)).join(", ");
  const parts = [`${name}: changes ${fields}`];
  if (diff.replaces.length > 0)
    parts.push(
      `${diff.replaces.join(", ")} changed: the setting is replaced (created anew, the old one deleted${
        diff.replaces.some((path) => path.startsWith("service"))
          ? ": the old realm's email settings are cleared"
          : ""
      })`,
    );
  if (diff.grantRenewal.length > 0) {
    parts.push(
      `grant renewal needed (${diff.grantRenewal.join(", ")} changed): someone must authorize again`,
    );
  } else if (diff.oauth) {
    parts.push("the stored grant is kept");
  }
  return parts.join("; ");
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function isScopes(value: unknown): value is string | string[] {
  return (
    typeof value === "string" || (Array.isArray(value) && value.every((scope) => typeof scope === "string"))
  );
}

function sorted(record: Record<string, string>): [string, string][] {
  return Object.entries(record).sort(([a], [b]) => a.localeCompare(b));
}
