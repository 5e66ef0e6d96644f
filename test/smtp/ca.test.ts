import { createPrivateKey, X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createThrowawayCA, serialNumber } from "../../sandbox/ca.js";

describe("createThrowawayCA", () => {
  const ca = createThrowawayCA();
  const caCert = new X509Certificate(ca.caPem);

  it("issues a loopback certificate signed by the CA", () => {
    const cert = new X509Certificate(ca.issue().certPem);
    expect(cert.subjectAltName).toBe("DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1");
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.checkIP("127.0.0.1")).toBe("127.0.0.1");
  });

  it("makes serials that are positive minimal DER integers, whatever the random bytes (a leading 0x00 was illegal padding)", () => {
    for (const first of [0x00, 0x01, 0x7e, 0x7f, 0x80, 0xfe, 0xff]) {
      const random = new Uint8Array(16).fill(0x10);
      random[0] = first;
      const leading = Number.parseInt(serialNumber(random).slice(0, 2), 16);
      expect(leading, `first random byte 0x${first.toString(16)}`).toBeGreaterThanOrEqual(0x01);
      expect(leading, `first random byte 0x${first.toString(16)}`).toBeLessThanOrEqual(0x7f);
      expect(serialNumber(random)).toHaveLength(32);
    }
  });

  it("issues a certificate for another host", () => {
    const cert = new X509Certificate(ca.issue({ hosts: ["mail.other.test"] }).certPem);
    expect(cert.subjectAltName).toBe("DNS:mail.other.test");
    expect(cert.checkIP("127.0.0.1")).toBeUndefined();
  });

  it("issues an expired certificate", () => {
    const day = 86_400_000;
    const cert = new X509Certificate(
      ca.issue({ notBefore: new Date(Date.now() - 3 * day), notAfter: new Date(Date.now() - day) }).certPem,
    );
    expect(new Date(cert.validTo).getTime()).toBeLessThan(Date.now());
  });

  it("issues a self-signed certificate that the CA did not sign", () => {
    const cert = new X509Certificate(ca.issue({ selfSigned: true }).certPem);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.checkIssued(caCert)).toBe(false);
  });

  it("returns the private key of the certificate", () => {
    const issued = ca.issue();
    expect(new X509Certificate(issued.certPem).checkPrivateKey(createPrivateKey(issued.keyPem))).toBe(true);
  });
});
