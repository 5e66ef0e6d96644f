import { chmod, readFile, rename, unlink, writeFile } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { MailServerError } from "../errors.js";
import type { SecretReference } from "./generated/declaration.js";

export interface ResolveSecretOptions {
  /** Folder of the declaration: `file` references are relative to it. */
  baseDir: string;
  /** Environment to read `env` references from (default: process.env). */
  env?: Record<string, string | undefined>;
  /** Resolves `config` references; only the Pulumi program has one. */
  config?: (key: string) => string | undefined;
  /** The declaration field, for messages (`auth.password`). */
  field: string;
}

/** Where a declaration's secrets come from: its folder, the environment, and (in Pulumi) config. */
export type SecretSources = Omit<ResolveSecretOptions, "field">;

/** The declaration's secrets, bound to where they come from: `secret(auth.password, "auth.password")`. */
export type SecretResolver = (ref: SecretReference, field: string) => Promise<string>;

export function secretResolver(sources: SecretSources): SecretResolver {
  return (ref, field) => resolveSecret(ref, { ...sources, field });
}

/**
 * The username and email that `mailserver authorize --out` recorded next to the refresh token,
 * when the reference is such a file; empty for any other reference or a plain token file.
 */
export async function recordedIdentity(
  ref: SecretReference | undefined,
  baseDir: string,
): Promise<{ username?: string; email?: string }> {
  if (!ref || !("file" in ref)) return {};
  try {
    const grant = JSON.parse(await readFile(secretFilePath(ref, baseDir), "utf8")) as Record<string, unknown>;
    return {
      ...(typeof grant.username === "string" && { username: grant.username }),
      ...(typeof grant.email === "string" && { email: grant.email }),
    };
  } catch {
    // A plain token file, or none: it records no identity.
    return {};
  }
}

/** Describes a reference without its value, for messages and reviews: `env:SMTP_PASSWORD`. */
export function describeSecretReference(ref: SecretReference): string {
  if ("env" in ref) return `env:${ref.env}`;
  if ("file" in ref) return `file:${ref.file}`;
  return `config:${ref.config}`;
}

/** The absolute path of a `file` reference. */
export function secretFilePath(ref: { file: string }, baseDir: string): string {
  return isAbsolute(ref.file) ? ref.file : resolve(baseDir, ref.file);
}

/**
 * Reads a secret from where its reference points. A file written by `mailserver authorize --out`
 * is JSON with a `refreshToken` field; any other file holds the secret itself (trailing newline trimmed).
 */
export async function resolveSecret(ref: SecretReference, options: ResolveSecretOptions): Promise<string> {
  const where = describeSecretReference(ref);
  let value: string | undefined;
  if ("env" in ref) {
    value = (options.env ?? process.env)[ref.env];
  } else if ("file" in ref) {
    value = await readSecretFile(secretFilePath(ref, options.baseDir), options.field, where);
  } else {
    if (!options.config) {
      throw new MailServerError(
        "secret-needs-pulumi",
        `${options.field} is a Pulumi config reference (${where}); only the Pulumi program can resolve it`,
        { field: options.field },
      );
    }
    value = options.config(ref.config);
  }
  if (value === undefined || value === "") {
    throw new MailServerError("secret-unresolved", `${options.field} (${where}) is not set or empty`, {
      field: options.field,
    });
  }
  return value;
}

/** Fields whose secret is a JSON document itself (a service account key), not a grant file. */
const JSON_VALUED_FIELDS = new Set(["auth.serviceAccountKey"]);

async function readSecretFile(path: string, field: string, where: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? "unreadable";
    throw new MailServerError("secret-unresolved", `${field} (${where}) cannot be read: ${reason}`, {
      field,
      cause: error,
    });
  }
  const trimmed = text.trim();
  if (!trimmed.startsWith("{") || JSON_VALUED_FIELDS.has(field)) return trimmed;
  try {
    const grant = JSON.parse(trimmed) as { refreshToken?: unknown };
    if (typeof grant.refreshToken === "string") return grant.refreshToken;
  } catch {
    // Not JSON after all: the file holds the secret itself.
    return trimmed;
  }
  throw new MailServerError("secret-unresolved", `${field} (${where}) is JSON without a refreshToken field`, {
    field,
  });
}

/**
 * Writes a file atomically with mode 0600: a temporary file in the same folder, then a rename, so
 * that a crash never leaves half a grant behind and the newest refresh token is never lost.
 */
export async function writePrivateFileAtomically(path: string, content: string): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    await writeFile(temporary, content, { mode: 0o600 });
    await chmod(temporary, 0o600);
    await rename(temporary, path);
  } catch (error) {
    // Never leave a secret behind in a stray file.
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}

/**
 * Persists a rotated refresh token where its `file` reference points, keeping the other fields of
 * an `authorize --out` JSON file. Returns false when the reference is not a file (nothing written).
 */
export async function storeRotatedRefreshToken(
  ref: SecretReference,
  refreshToken: string,
  baseDir: string,
): Promise<boolean> {
  if (!("file" in ref)) return false;
  const path = secretFilePath(ref, baseDir);
  let grant: Record<string, unknown> | undefined;
  try {
    const parsed = JSON.parse(await readFile(path, "utf8")) as unknown;
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed))
      grant = parsed as Record<string, unknown>;
  } catch {
    grant = undefined;
  }
  const content = grant
    ? `${JSON.stringify({ ...grant, refreshToken, rotatedAt: new Date().toISOString() }, null, 2)}\n`
    : `${refreshToken}\n`;
  await writePrivateFileAtomically(path, content);
  return true;
}
