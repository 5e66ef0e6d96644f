/**
 * A Google service account's JSON key (the file the Cloud console downloads): `client_email`,
 * `private_key`, `private_key_id` and `token_uri` are what the JWT bearer grant needs. A key that
 * is not JSON or lacks a field is a `service-account-key-invalid` error that names the field and
 * never quotes the file (it holds the private key).
 * @see https://developers.google.com/identity/protocols/oauth2/service-account#jwt-auth
 */
import { MailServerError } from "../errors.js";
import { importSigningKey, type SigningKey } from "./signing-key.js";

export interface ServiceAccountKey {
  /** The service account's address: the JWT's `iss`. */
  clientEmail: string;
  /** The service account's numeric client ID (what a Workspace admin delegates to), when present. */
  clientId?: string;
  /** `kid` of the JWT header. */
  privateKeyId: string;
  signingKey: SigningKey;
  /** The token endpoint: the JWT's `aud`, and where it is sent. */
  tokenUri: string;
}

const REQUIRED = ["client_email", "private_key", "private_key_id", "token_uri"] as const;

/**
 * Parses a service account key.
 * @param where the reference it came from, for messages (`auth.serviceAccountKey (file:sa.json)`)
 * @throws MailServerError `service-account-key-invalid`
 */
export async function parseServiceAccountKey(text: string, where: string): Promise<ServiceAccountKey> {
  const invalid = (problem: string) =>
    new MailServerError("service-account-key-invalid", `${where} ${problem}`, {
      field: "auth.serviceAccountKey",
    });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the text around the error: it could be the key itself.
    throw invalid("is not JSON: expected the service account's JSON key file");
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
    throw invalid("is not a JSON object: expected the service account's JSON key file");
  const key = parsed as Record<string, unknown>;
  const missing = REQUIRED.filter((field) => typeof key[field] !== "string" || key[field] === "");
  if (missing.length > 0) throw invalid(`lacks ${missing.join(", ")}`);
  if (key.type !== undefined && key.type !== "service_account")
    throw invalid(`is a key of type ${JSON.stringify(key.type)}, not service_account`);
  const tokenUri = key.token_uri as string;
  try {
    new URL(tokenUri);
  } catch {
    throw invalid("has a token_uri that is not a URL");
  }
  const signingKey = await importSigningKey(
    key.private_key as string,
    `${where} private_key`,
    "service-account-key-invalid",
  );
  return {
    clientEmail: key.client_email as string,
    ...(typeof key.client_id === "string" && key.client_id !== "" && { clientId: key.client_id }),
    privateKeyId: key.private_key_id as string,
    signingKey,
    tokenUri,
  };
}
