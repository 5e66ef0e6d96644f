/**
 * The shapes a MailServer resource carries through the Pulumi engine: the inputs the program
 * registers, and the state (outputs) the provider returns. Pure data and pure functions: no
 * network, no Pulumi import, so the program, the provider host and the tests share them.
 */
import { DECLARATION_KEYS } from "../declaration/fields.js";
import type { MailServerDeclaration, SecretReference } from "../declaration/generated/declaration.js";
import { fieldName } from "../declaration/problem.js";

/** The version of the state written by this code. Every later version reads every older one. */
export const STATE_VERSION = 1;

/** Inputs the program adds next to the declaration; never part of it. */
export const RESERVED_INPUT_KEYS = ["__provider", "baseDir", "secretValues"] as const;

/** Outputs that are always Pulumi secrets (see MailServer's additionalSecretOutputs). */
export const SECRET_OUTPUT_KEYS = [
  "refreshToken",
  "accessToken",
  "password",
  "clientSecret",
  "transport",
  "secretValues",
  "serviceClientSecret",
] as const;

/** The outputs a MailServer declares, in the order people read them (the secret ones: SECRET_OUTPUT_KEYS). */
export const OUTPUT_KEYS = [
  "stateVersion",
  "host",
  "port",
  "protocol",
  "username",
  "fromName",
  "fromAddress",
  "issuer",
  "endpoints",
  "scopes",
  "grantedAt",
  "lastVerifiedAt",
  "verification",
  "certificate",
  "lastTestEmail",
  "refreshToken",
  "accessToken",
  "password",
  "clientSecret",
  "transport",
  "serviceClientSecret",
] as const;

/** Prefix of the `{ config }` reference that stands for a secret given inline (`pulumi.secret(...)`). */
export const INLINE_SECRET_PREFIX = "inline:";

/**
 * What the program registers: the declaration's fields at the top level (so check failures and
 * diffs name `auth.clientId`), the folder `file` references are relative to (relative to the
 * project directory, so state does not depend on the checkout's path), and the values of
 * `{ config }` references, which only the program can read (a Pulumi secret).
 */
export interface MailServerInputs extends Partial<MailServerDeclaration> {
  baseDir?: string;
  secretValues?: Record<string, string>;
}

export interface ResolvedEndpoints {
  authorization?: string;
  token?: string;
  deviceAuthorization?: string;
  revocation?: string;
}

export interface VerificationOutput {
  ok: boolean;
  at: string;
  authenticatedAs?: string;
  authMechanisms?: string[];
  tlsVersion?: string;
  durationMs?: number;
  error?: { code: string; message: string; smtpCode?: number | null } | null;
}

/** The state of a MailServer: the inputs it was created from, plus what the provider observed. */
export interface MailServerState extends MailServerInputs {
  stateVersion: number;
  host?: string;
  port?: number;
  protocol?: "tls" | "starttls";
  username?: string;
  fromName?: string;
  fromAddress?: string;
  issuer?: string;
  endpoints?: ResolvedEndpoints;
  /** Scopes actually granted. */
  scopes?: string[];
  grantedAt?: string;
  /** SHA-256 of the refresh token that was declared when the grant was stored (not the token). */
  declaredGrantDigest?: string;
  lastVerifiedAt?: string;
  verification?: VerificationOutput;
  certificate?: { fingerprint256?: string; notAfter?: string; subject?: string; issuer?: string };
  testEmail?: MailServerDeclaration["testEmail"];
  /** What the last refresh found out of line with the declaration; a non-empty list makes the next diff an update. */
  drift?: { code: string; severity: "error" | "warning"; message: string; field?: string }[];
  lastTestEmail?: {
    ok: boolean;
    at: string;
    messageId?: string;
    error?: { code: string; message: string } | null;
  };
  /** Secrets (additionalSecretOutputs). */
  refreshToken?: string;
  /** The access token of the last create/update, for the post-deploy hook (so it never spends the refresh token). */
  accessToken?: string;
  password?: string;
  clientSecret?: string;
  transport?: Record<string, unknown>;
  /** The identity service's admin client secret, so refresh and delete can reach the service. */
  serviceClientSecret?: string;
}

/** Splits the engine's properties into the declaration and what the program added. */
export function splitInputs(props: Record<string, unknown>): {
  declaration: Record<string, unknown>;
  baseDir: string;
  secretValues: Record<string, string>;
} {
  const declaration: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(props)) {
    if ((RESERVED_INPUT_KEYS as readonly string[]).includes(key)) continue;
    if (!(DECLARATION_KEYS as readonly string[]).includes(key)) {
      // Not a declaration field: keep it only if it is not an output of ours, so the validator reports it.
      if (STATE_KEYS.has(key)) continue;
    }
    if (value === undefined || value === null) continue;
    declaration[key] = value;
  }
  const baseDir = typeof props.baseDir === "string" && props.baseDir !== "" ? props.baseDir : ".";
  const secretValues: Record<string, string> = {};
  if (props.secretValues && typeof props.secretValues === "object") {
    for (const [key, value] of Object.entries(props.secretValues as Record<string, unknown>)) {
      if (typeof value === "string") secretValues[key] = value;
    }
  }
  return { declaration, baseDir, secretValues };
}

/** The declaration's fields of a state or of inputs, for comparisons. */
export function declarationOf(props: Record<string, unknown>): Record<string, unknown> {
  return splitInputs(props).declaration;
}

/** The inputs part of a state: what `read` returns as `inputs` so refresh diffs honestly. */
export function inputsOf(props: Record<string, unknown>): MailServerInputs {
  const inputs: Record<string, unknown> = {};
  for (const key of [...DECLARATION_KEYS, "baseDir", "secretValues"]) {
    if (props[key] !== undefined) inputs[key] = props[key];
  }
  return inputs as MailServerInputs;
}

/** What the provider keeps in the state for itself: never a declared output. */
const PROVIDER_STATE_KEYS = ["declaredGrantDigest", "drift"] as const;

/** Every key of a state that is not an input. */
const STATE_KEYS = new Set<string>([...OUTPUT_KEYS, ...PROVIDER_STATE_KEYS]);

/**
 * The outputs of a state that are not secret, for people to look at (the demo, a log line).
 * @example
 * console.log(JSON.stringify(publicOutputs(state), null, 2));
 */
export function publicOutputs(state: Record<string, unknown>): Record<string, unknown> {
  const secret = new Set<string>(SECRET_OUTPUT_KEYS);
  return Object.fromEntries(
    OUTPUT_KEYS.filter((key) => !secret.has(key) && state[key] !== undefined).map((key) => [key, state[key]]),
  );
}

/**
 * Reads a state of any version written by this provider. Version 1 is the first; a state without
 * `stateVersion` predates versioning and is treated as version 1.
 */
export function upgradeState(props: Record<string, unknown>): MailServerState {
  const version = typeof props.stateVersion === "number" ? props.stateVersion : 1;
  if (version > STATE_VERSION) {
    throw new TypeError(
      `this MailServer state has stateVersion ${version}, newer than this pulumi-mailserver understands (${STATE_VERSION}): upgrade the package`,
    );
  }
  return { ...(props as Partial<MailServerState>), stateVersion: STATE_VERSION } as MailServerState;
}

/** Turns a JSON pointer from the validator into the property path Pulumi check failures use (root: ""). */
export function propertyPath(pointer: string): string {
  return pointer === "" || pointer === "/" ? "" : fieldName(pointer);
}

/** The `{ config }` reference standing for a secret given inline at `field` (`auth.password`). */
export function inlineSecretReference(field: string): SecretReference {
  return { config: `${INLINE_SECRET_PREFIX}${field}` };
}
