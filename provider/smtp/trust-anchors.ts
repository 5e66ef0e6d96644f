/** The trust anchors of an SMTP session: the system's CAs plus the declaration's smtp.tls.ca. */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { createSecureContext, rootCertificates, type SecureContext } from "node:tls";
import type { NormalizedCustomDeclaration } from "../declaration/normalize.js";
import { MailServerError } from "../errors.js";

/** Reads smtp.tls.ca: the PEM certificates to trust in addition to the system's. */
export async function readExtraTrustAnchors(
  decl: NormalizedCustomDeclaration,
  baseDir = ".",
): Promise<string | undefined> {
  if (!decl.smtp.caFile) return undefined;
  const path = resolve(baseDir, decl.smtp.caFile);
  let pem: string;
  try {
    pem = await readFile(path, "utf8");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? "unreadable";
    throw new MailServerError("tls", `smtp.tls.ca (${decl.smtp.caFile}) cannot be read: ${reason}`, {
      field: "smtp.tls.ca",
      remedy: "Point smtp.tls.ca.file at a PEM file, relative to the declaration's folder.",
      cause: error,
    });
  }
  if (!pem.includes("-----BEGIN CERTIFICATE-----")) {
    throw new MailServerError("tls", `smtp.tls.ca (${decl.smtp.caFile}) holds no PEM certificate`, {
      field: "smtp.tls.ca",
      remedy: "Point smtp.tls.ca.file at a PEM file with one or more CERTIFICATE blocks.",
    });
  }
  return pem;
}

/**
 * A TLS context that trusts the system's CAs plus `extraCaPem`, with TLS 1.2 at least.
 *
 * The documented way, `ca: [...tls.rootCertificates, pem]`, makes Node parse some 140 root
 * certificates from PEM on every connection (about 70-90 ms, most of a CLI run); adding the extra
 * certificates to the default context's store reuses the roots Node parsed once. That method
 * (`SecureContext.context.addCACert`, what Node itself uses for the `ca` option) is not public, so
 * the documented form remains the fallback. Either way certificate checks stay on.
 */
export function trustingSecureContext(extraCaPem?: string): SecureContext {
  const context = createSecureContext({ minVersion: "TLSv1.2" });
  if (!extraCaPem) return context;
  const native = (context as unknown as { context?: { addCACert?: (pem: string) => void } }).context;
  if (typeof native?.addCACert === "function") {
    native.addCACert(extraCaPem);
    return context;
  }
  return createSecureContext({ minVersion: "TLSv1.2", ca: [...rootCertificates, extraCaPem] });
}
