/**
 * What every rule reads: the declaration taken defensively (rules also run on declarations that
 * fail the schema), with its preset and vendor resolved once.
 */
import { PRESETS, type Preset, vendorOf } from "../../presets/index.js";
import { isAppOnlyFlow, type OAuthFlow, scopeList } from "../normalize.js";
import type { Problem } from "../problem.js";

/** A rule's finding before it is placed in the source. */
export interface RuleProblem extends Omit<Problem, "line" | "column"> {
  /** Point at the field's key rather than its value (a field that should not be there). */
  at?: "key" | "value";
  /** The rule explains this field better than a schema message would: drop schema problems at or under it. */
  supersedesSchema?: boolean;
}

export type Fields = Record<string, unknown>;

/** What the rules read, taken defensively: they also run on declarations that fail the schema. */
export interface DeclarationView {
  root: Fields;
  smtp: Fields | undefined;
  auth: Fields | undefined;
  from: Fields | undefined;
  testEmail: Fields | undefined;
  service: Fields | undefined;
  preset: Preset | undefined;
  vendor: Preset | undefined;
  oauth: boolean;
  /** OAuth with an app-only flow (client-credentials, service-account): no person, no refresh token. */
  appOnly: boolean;
  /** Declared scopes (undefined when not declared or not readable). */
  scopes: string[] | undefined;
}

export type Rule = (view: DeclarationView) => RuleProblem[];

export const mapping = (value: unknown): Fields | undefined =>
  value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Fields) : undefined;

export const text = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);

export function view(root: Fields): DeclarationView {
  const smtp = mapping(root.smtp);
  const auth = mapping(root.auth);
  const presetName = text(root.preset);
  const preset = presetName === "gmail" || presetName === "office365" ? PRESETS[presetName] : undefined;
  const host = text(smtp?.host);
  const issuer = text(auth?.issuer);
  const rawScopes = auth?.scopes;
  const scopes =
    typeof rawScopes === "string" ||
    (Array.isArray(rawScopes) && rawScopes.every((s) => typeof s === "string"))
      ? scopeList(rawScopes as string | string[])
      : undefined;
  return {
    root,
    smtp,
    auth,
    from: mapping(root.from),
    testEmail: mapping(root.testEmail),
    service: mapping(root.service),
    preset,
    vendor: vendorOf({
      ...(presetName && { preset: presetName }),
      ...(host && { host }),
      ...(issuer && { issuer }),
    }),
    oauth: auth?.method === "oauth",
    appOnly: auth?.method === "oauth" && isAppOnlyFlow(text(auth.flow) as OAuthFlow | undefined),
    scopes,
  };
}

/** Where a scope sits: its list item when scopes are a list, else the scopes field. */
export function scopePath(auth: Fields | undefined, scope: string): string {
  const index = Array.isArray(auth?.scopes) ? (auth.scopes as unknown[]).indexOf(scope) : -1;
  return index >= 0 ? `/auth/scopes/${index}` : "/auth/scopes";
}

export const LOOPBACK_HOSTS = new Set(["127.0.0.1", "[::1]", "localhost"]);

export function parseUrl(value: unknown): URL | undefined {
  if (typeof value !== "string") return undefined;
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}
