/**
 * Private keys for the app-only grants, imported with `jose` (openid-client's own JOSE library):
 * a PEM key (PKCS#8, PKCS#1 RSA or SEC1 EC) becomes a CryptoKey with the JWS algorithm that fits
 * it. Errors name the field and the kind of problem, never the key's text.
 */
import { createPrivateKey, type KeyObject } from "node:crypto";
import { importJWK, type JWK } from "jose";
import { type ErrorCode, MailServerError } from "../errors.js";

/** A private key ready to sign JWTs (RFC 7515), with the algorithm its type implies. */
export interface SigningKey {
  key: CryptoKey;
  /** RS256 for RSA keys; ES256/ES384/ES512 for EC keys on P-256/P-384/P-521. */
  alg: string;
  /** The same key for node:crypto (matching a certificate against it). */
  keyObject: KeyObject;
}

const EC_ALGORITHMS: Record<string, string> = { "P-256": "ES256", "P-384": "ES384", "P-521": "ES512" };

/**
 * Imports a PEM private key.
 * @param where the field it came from, for messages (`auth.clientAssertion.privateKey`)
 * @throws MailServerError `code` when the text is not a supported private key
 * @see RFC 7518 section 3.1 (the `alg` values)
 */
export async function importSigningKey(pem: string, where: string, code: ErrorCode): Promise<SigningKey> {
  let keyObject: KeyObject;
  try {
    keyObject = createPrivateKey({ key: pem, format: "pem" });
  } catch {
    // The decoder's message is generic; the key's text is never quoted.
    throw new MailServerError(code, `${where} is not a PEM private key`, { field: where });
  }
  const jwk = keyObject.export({ format: "jwk" }) as JWK;
  const alg = jwk.kty === "RSA" ? "RS256" : jwk.kty === "EC" ? EC_ALGORITHMS[jwk.crv ?? ""] : undefined;
  if (!alg) {
    throw new MailServerError(
      code,
      `${where} is a ${keyObject.asymmetricKeyType ?? "unknown"} key: RSA or EC (P-256, P-384, P-521) keys are supported`,
      { field: where },
    );
  }
  const key = (await importJWK(jwk, alg)) as CryptoKey;
  return { key, alg, keyObject };
}
