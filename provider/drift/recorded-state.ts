/**
 * What Pulumi recorded for each MailServer, read from one of the two files people can produce:
 * `pulumi stack output --json --show-secrets` (the program's exports) or `pulumi stack export`
 * (the checkpoint, whose resources carry every output). Only non-secret facts are used; secret
 * values in the file are never read into the result.
 */
import { readFile, stat } from "node:fs/promises";
import { MailServerError } from "../errors.js";

/**
 * The recorded outputs drift compares against: a subset of the provider's state
 * (provider/lifecycle/state.ts MailServerState), so the provider can pass its state as it is.
 */
export interface RecordedOutputs {
  name?: string;
  server?: string;
  host?: string;
  port?: number;
  protocol?: string;
  username?: string;
  fromName?: string;
  fromAddress?: string;
  replyTo?: string | null;
  issuer?: string;
  endpoints?: { authorization?: string; token?: string; deviceAuthorization?: string; revocation?: string };
  /** Scopes the issuer granted. */
  scopes?: string[];
  certificate?: { fingerprint256?: string; notAfter?: string; subject?: string; issuer?: string };
}

export interface RecordedState {
  file: string;
  format: "stack-output" | "stack-export";
  /** The stack the checkpoint belongs to (stack export only: from the resources' URNs). */
  stack?: string;
  /** Recorded outputs by declaration name. */
  byName: Map<string, RecordedOutputs>;
}

/** The resource type token of MailServer (provider/mail-server.ts). */
const MAIL_SERVER_TYPE = "pulumi-nodejs:dynamic/mailserver:MailServer";
/** Pulumi's marker of a secret value in a checkpoint. */
const SECRET_SIGNATURE = "4dabf18193072939515e22adb298388d";
/** Keys of which at least one marks an object as a MailServer's outputs. */
const OUTPUT_KEYS = [
  "stateVersion",
  "host",
  "port",
  "protocol",
  "fromAddress",
  "certificate",
  "endpoints",
  "username",
];
const MAX_STATE_BYTES = 256 * 1024 * 1024;

/**
 * Reads a recorded state file. Throws `state-unreadable` when the file cannot be read, is not
 * JSON, or holds no MailServer outputs in either format.
 * @example
 * // pulumi stack output --json --show-secrets > state.json
 * const { byName } = await readRecordedState("state.json");
 */
export async function readRecordedState(file: string): Promise<RecordedState> {
  let text: string;
  try {
    // Refused unread, as an oversized declaration is: no checkpoint of mail settings is that big.
    if ((await stat(file)).size > MAX_STATE_BYTES) throw new RangeError("too large");
    text = await readFile(file, "utf8");
  } catch (error) {
    if (error instanceof RangeError) {
      throw new MailServerError("state-unreadable", `the state file ${file} is larger than 256 MiB`);
    }
    const reason = (error as NodeJS.ErrnoException).code ?? "unreadable";
    throw new MailServerError("state-unreadable", `the state file ${file} cannot be read (${reason})`, {
      cause: error,
    });
  }
  return parseRecordedState(text, file);
}

/** Parses the text of a recorded state file (see {@link readRecordedState}). */
export function parseRecordedState(text: string, file: string): RecordedState {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new MailServerError(
      "state-unreadable",
      `the state file ${file} is not JSON: ${(error as Error).message}`,
    );
  }
  if (!isObject(value)) {
    throw new MailServerError("state-unreadable", `the state file ${file} is not a JSON object`);
  }
  const deployment = isObject(value.deployment) ? value.deployment : undefined;
  const state: RecordedState =
    deployment && Array.isArray(deployment.resources)
      ? fromExport(deployment.resources, file)
      : { file, format: "stack-output", byName: fromOutputs(value) };
  if (state.byName.size === 0) {
    throw new MailServerError(
      "state-unreadable",
      `the state file ${file} holds no MailServer outputs (${state.format === "stack-export" ? "no MailServer resource in the checkpoint" : "no exported object with host, protocol or stateVersion"})`,
    );
  }
  return state;
}

function fromExport(resources: unknown[], file: string): RecordedState {
  const byName = new Map<string, RecordedOutputs>();
  let stack: string | undefined;
  for (const resource of resources) {
    if (!isObject(resource) || resource.delete === true || !isObject(resource.outputs)) continue;
    const outputs = unwrapSecrets(resource.outputs) as Record<string, unknown>;
    const urn = typeof resource.urn === "string" ? resource.urn : "";
    const isMailServer =
      resource.type === MAIL_SERVER_TYPE ||
      (typeof resource.type === "string" &&
        resource.type.startsWith("pulumi-nodejs:dynamic") &&
        "stateVersion" in outputs);
    if (!isMailServer) continue;
    stack ??= /^urn:pulumi:([^:]+)::/.exec(urn)?.[1];
    const name = typeof outputs.name === "string" ? outputs.name : urn.split("::").pop();
    if (name) byName.set(name, recordedOutputs(outputs, name));
  }
  return { file, format: "stack-export", ...(stack && { stack }), byName };
}

/** Stack outputs: either the MailServers' outputs at the top level, or one export holding them (an object or a list). */
function fromOutputs(value: Record<string, unknown>): Map<string, RecordedOutputs> {
  const byName = new Map<string, RecordedOutputs>();
  const add = (key: string, outputs: Record<string, unknown>) => {
    const name = typeof outputs.name === "string" ? outputs.name : key;
    byName.set(name, recordedOutputs(outputs, name));
  };
  for (const [key, entry] of Object.entries(value)) {
    if (looksLikeOutputs(entry)) add(key, entry);
  }
  if (byName.size > 0) return byName;
  for (const entry of Object.values(value)) {
    if (Array.isArray(entry)) {
      for (const item of entry)
        if (looksLikeOutputs(item) && typeof item.name === "string") add(item.name, item);
    } else if (isObject(entry)) {
      for (const [key, item] of Object.entries(entry)) if (looksLikeOutputs(item)) add(key, item);
    }
  }
  return byName;
}

function recordedOutputs(outputs: Record<string, unknown>, name: string): RecordedOutputs {
  const str = (key: string) => (typeof outputs[key] === "string" ? (outputs[key] as string) : undefined);
  const recorded: RecordedOutputs = { name };
  const server = str("server");
  if (server) recorded.server = server;
  for (const key of ["host", "protocol", "username", "fromName", "fromAddress", "issuer"] as const) {
    const text = str(key);
    if (text !== undefined) recorded[key] = text;
  }
  if (typeof outputs.port === "number") recorded.port = outputs.port;
  if ("replyTo" in outputs) recorded.replyTo = typeof outputs.replyTo === "string" ? outputs.replyTo : null;
  if (Array.isArray(outputs.scopes))
    recorded.scopes = outputs.scopes.filter((s): s is string => typeof s === "string");
  else if (typeof outputs.scopes === "string") recorded.scopes = outputs.scopes.split(/\s+/).filter(Boolean);
  if (isObject(outputs.endpoints)) recorded.endpoints = strings(outputs.endpoints);
  if (isObject(outputs.certificate)) recorded.certificate = strings(outputs.certificate);
  return recorded;
}

function strings(record: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(record).filter((entry): entry is [string, string] => typeof entry[1] === "string"),
  );
}

function looksLikeOutputs(value: unknown): value is Record<string, unknown> {
  return isObject(value) && OUTPUT_KEYS.some((key) => key in value);
}

/** Replaces Pulumi secret envelopes by their plaintext when `--show-secrets` put it there, else drops them. */
function unwrapSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (!isObject(value)) return value;
  if (SECRET_SIGNATURE in value) {
    if (typeof value.plaintext !== "string") return undefined;
    try {
      return unwrapSecrets(JSON.parse(value.plaintext));
    } catch {
      return undefined;
    }
  }
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, unwrapSecrets(item)]));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
