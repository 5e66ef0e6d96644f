/**
 * `private_key_jwt` client authentication (RFC 7523 section 2.2) for the client credentials grant:
 * openid-client's PrivateKeyJwt with the declared key, its `kid`, and, for Microsoft certificate
 * credentials, the certificate's SHA-1 thumbprint as `x5t` in the JWT header. The assertion's
 * `aud` is the token endpoint, which Microsoft requires and RFC 7523 section 3 allows.
 * @see https://learn.microsoft.com/entra/identity-platform/certificate-credentials
 */
import { X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import * as oidc from "openid-client";
import type { ClientAssertion } from "../declaration/normalize.js";
import { secretFilePath } from "../declaration/secrets.js";
import { MailServerError } from "../errors.js";
import { importSigningKey, type SigningKey } from "./signing-key.js";

/** The key material of a client assertion, read from the declared files. */
export interface ClientAssertionKey {
  signingKey: SigningKey;
  /** `kid` for the JWT header (auth.clientAssertion.keyId). */
  keyId?: string;
  /** base64url SHA-1 thumbprint of the certificate (`x5t`, RFC 7515 section 4.1.7). */
  x5t?: string;
}

const FIELD = "auth.clientAssertion";

/**
 * Reads auth.clientAssertion's private key and certificate files (relative to `baseDir`) and
 * checks that the certificate is the key's.
 * @throws MailServerError `client-key-invalid`, `secret-unresolved` (a file that cannot be read)
 */
export async function loadClientAssertionKey(
  assertion: ClientAssertion,
  baseDir: string,
): Promise<ClientAssertionKey> {
  const keyPem = await readKeyFile(assertion.privateKey.file, baseDir, `${FIELD}.privateKey`);
  const signingKey = await importSigningKey(keyPem, `${FIELD}.privateKey`, "client-key-invalid");
  let x5t: string | undefined;
  if (assertion.certificate) {
    const where = `${FIELD}.certificate`;
    const pem = await readKeyFile(assertion.certificate.file, baseDir, where);
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(pem);
    } catch {
      throw new MailServerError("client-key-invalid", `${where} is not a PEM certificate`, { field: where });
    }
    if (!certificate.checkPrivateKey(signingKey.keyObject)) {
      throw new MailServerError(
        "client-key-invalid",
        `${where} (${certificate.subject.replace(/\n/g, ", ")}) is not the certificate of ${FIELD}.privateKey`,
        { field: where },
      );
    }
    x5t = Buffer.from(certificate.fingerprint.replace(/:/g, ""), "hex").toString("base64url");
  }
  return { signingKey, ...(assertion.keyId && { keyId: assertion.keyId }), ...(x5t && { x5t }) };
}

/**
 * openid-client's PrivateKeyJwt for this key. `tokenEndpoint` is read when the assertion is built
 * (after discovery) to become its `aud`.
 * @see RFC 7523 section 2.2 and 3
 */
export function privateKeyJwt(
  key: ClientAssertionKey,
  tokenEndpoint: () => string | undefined,
): oidc.ClientAuth {
  return oidc.PrivateKeyJwt(
    { key: key.signingKey.key, ...(key.keyId && { kid: key.keyId }) },
    {
      [oidc.modifyAssertion]: (header, payload) => {
        if (key.x5t) (header as Record<string, unknown>).x5t = key.x5t;
        const audience = tokenEndpoint();
        if (audience) payload.aud = audience;
      },
    },
  );
}

async function readKeyFile(file: string, baseDir: string, field: string): Promise<string> {
  try {
    return await readFile(secretFilePath({ file }, baseDir), "utf8");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? "unreadable";
    throw new MailServerError("secret-unresolved", `${field} (file:${file}) cannot be read: ${reason}`, {
      field,
      cause: error,
    });
  }
}
