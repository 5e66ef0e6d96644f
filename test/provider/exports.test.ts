/** Pins the package's public surface: the main entry and the lifecycle entry the shim loads. */
import { describe, expect, it } from "vitest";

describe("public exports", () => {
  it("the main entry exports the resource and the library functions", async () => {
    const entry = await import("../../provider/index.js");
    expect(Object.keys(entry).sort()).toEqual(
      [
        "ERROR_CODES",
        "MAIL_SERVER_TYPE",
        "MailServer",
        "MailServerError",
        "describeSecretReference",
        "discoverIssuer",
        "identityFromClaims",
        "isMailServerError",
        "loadDeclarationFile",
        "loadDeclarationText",
        "loadDeclarations",
        "normalizeDeclaration",
        "refreshGrant",
        "resolveEndpoints",
        "resolveSecret",
        "revokeGrant",
        "sendTestEmail",
        "validateDeclarationValue",
        "verifySmtp",
      ].sort(),
    );
    expect(entry.MAIL_SERVER_TYPE).toBe("pulumi-nodejs:dynamic/mailserver:MailServer");
  });

  it("the lifecycle entry keeps the six functions every stored shim calls", async () => {
    const lifecycle = await import("../../provider/lifecycle.js");
    for (const name of ["check", "diff", "create", "read", "update", "delete"]) {
      expect(typeof (lifecycle as Record<string, unknown>)[name]).toBe("function");
    }
    expect(lifecycle.STATE_VERSION).toBe(1);
  });
});
