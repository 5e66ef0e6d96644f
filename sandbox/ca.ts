import { generateKeyPairSync, randomBytes } from "node:crypto";
import { isIP } from "node:net";
import forge from "node-forge";

/** What a certificate is issued for, and when it is valid. */
export interface IssueOptions {
  /** DNS names for the subjectAltName (default: `localhost`). */
  hosts?: string[];
  /** IP literals for the subjectAltName (default: `127.0.0.1` and `::1`). */
  ips?: string[];
  /** Subject common name (default: the first host, else the first IP). */
  commonName?: string;
  /** Start of validity (default: one hour ago, so clock skew does not matter). */
  notBefore?: Date;
  /** End of validity (default: 30 days from now). */
  notAfter?: Date;
  /** Sign with the certificate's own key instead of the CA: a self-signed certificate nobody trusts. */
  selfSigned?: boolean;
}

/** A certificate and its private key, both PEM. */
export interface IssuedCertificate {
  certPem: string;
  keyPem: string;
}

/** A certificate authority that lives as long as the process: trust `caPem` and nothing else. */
export interface ThrowawayCA {
  caPem: string;
  /** Issues a server certificate; the defaults give a valid loopback certificate. */
  issue(options?: IssueOptions): IssuedCertificate;
}

const DAY_MS = 86_400_000;

/**
 * Creates a throwaway CA for the sandboxes and the tests: real certificates, checked by real TLS
 * stacks, with no certificate check switched off anywhere. Keys come from node:crypto (native,
 * fast) rather than node-forge's pure-JS RSA generation, and one leaf key is shared by every
 * certificate the CA issues, so a test file pays for two key pairs at most.
 *
 * @example
 * const ca = createThrowawayCA();
 * const { certPem, keyPem } = ca.issue(); // SAN 127.0.0.1, ::1, localhost
 * const expired = ca.issue({ notBefore: new Date(Date.now() - 2 * 86400000), notAfter: new Date(Date.now() - 86400000) });
 */
export function createThrowawayCA(options: { commonName?: string } = {}): ThrowawayCA {
  const caKeys = rsaKeyPair();
  const caSubject = [
    { name: "commonName", value: options.commonName ?? "pulumi-mailserver throwaway CA" },
    { name: "organizationName", value: "pulumi-mailserver sandbox" },
  ];
  const caCert = forge.pki.createCertificate();
  caCert.publicKey = caKeys.publicKey;
  caCert.serialNumber = serialNumber();
  caCert.validity.notBefore = new Date(Date.now() - DAY_MS);
  caCert.validity.notAfter = new Date(Date.now() + 365 * DAY_MS);
  caCert.setSubject(caSubject);
  caCert.setIssuer(caSubject);
  caCert.setExtensions([
    { name: "basicConstraints", cA: true, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
    { name: "subjectKeyIdentifier" },
  ]);
  caCert.sign(caKeys.privateKey, forge.md.sha256.create());
  const caPem = forge.pki.certificateToPem(caCert);

  // One leaf key for every certificate of this CA: generating RSA keys is the slow part.
  let leafKeys: KeyPair | undefined;

  return {
    caPem,
    issue(issue: IssueOptions = {}): IssuedCertificate {
      leafKeys ??= rsaKeyPair();
      const hosts = issue.hosts ?? (issue.ips ? [] : ["localhost"]);
      const ips = issue.ips ?? (issue.hosts ? [] : ["127.0.0.1", "::1"]);
      for (const ip of ips) if (isIP(ip) === 0) throw new TypeError(`not an IP literal: ${ip}`);
      const commonName = issue.commonName ?? hosts[0] ?? ips[0] ?? "sandbox";
      const cert = forge.pki.createCertificate();
      cert.publicKey = leafKeys.publicKey;
      cert.serialNumber = serialNumber();
      cert.validity.notBefore = issue.notBefore ?? new Date(Date.now() - 3_600_000);
      cert.validity.notAfter = issue.notAfter ?? new Date(Date.now() + 30 * DAY_MS);
      const subject = [
        { name: "commonName", value: commonName },
        { name: "organizationName", value: "pulumi-mailserver sandbox" },
      ];
      cert.setSubject(subject);
      cert.setIssuer(issue.selfSigned ? subject : caSubject);
      cert.setExtensions([
        { name: "basicConstraints", cA: false },
        { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
        { name: "extKeyUsage", serverAuth: true },
        {
          name: "subjectAltName",
          altNames: [...hosts.map((value) => ({ type: 2, value })), ...ips.map((ip) => ({ type: 7, ip }))],
        },
      ]);
      cert.sign(issue.selfSigned ? leafKeys.privateKey : caKeys.privateKey, forge.md.sha256.create());
      return { certPem: forge.pki.certificateToPem(cert), keyPem: leafKeys.keyPem };
    },
  };
}

interface KeyPair {
  publicKey: forge.pki.rsa.PublicKey;
  privateKey: forge.pki.rsa.PrivateKey;
  keyPem: string;
}

function rsaKeyPair(): KeyPair {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
  return {
    publicKey: forge.pki.publicKeyFromPem(publicKey) as forge.pki.rsa.PublicKey,
    privateKey: forge.pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey,
    keyPem: privateKey,
  };
}

/**
 * A positive random serial as node-forge's hex: the leading byte is kept in 0x01-0x7f, so DER reads
 * it as positive and needs no leading zero (a 0x00 there, then a byte below 0x80, is a DER integer
 * with illegal padding, which OpenSSL refuses to load: one certificate in 256 failed before).
 * @param random 16 random bytes (the parameter lets a test pin the edge cases)
 */
export function serialNumber(random: Uint8Array = randomBytes(16)): string {
  const bytes = Buffer.from(random);
  bytes[0] = ((bytes[0] ?? 0) % 0x7f) + 1;
  return bytes.toString("hex");
}
