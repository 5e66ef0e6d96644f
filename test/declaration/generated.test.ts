import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { PROBLEM_CODES } from "../../provider/declaration/problem-codes.js";
import { PRESETS } from "../../provider/presets/index.js";

describe("what is generated from the schema", () => {
  it("is up to date (run `npm run gen:types` after changing the schema)", () => {
    expect(() =>
      execFileSync(process.execPath, ["scripts/generate.mjs", "--check"], { stdio: "pipe" }),
    ).not.toThrow();
  });

  it("gives every property a title and a description, and closes every object", () => {
    const schema = JSON.parse(readFileSync("schema/mailserver.schema.json", "utf8"));
    const missing: string[] = [];
    const visit = (node: unknown, path: string) => {
      if (!node || typeof node !== "object") return;
      const record = node as Record<string, unknown>;
      if (record.type === "object" && record.properties && record.additionalProperties !== false)
        missing.push(`${path} is open`);
      for (const [name, property] of Object.entries(
        (record.properties as Record<string, Record<string, unknown>>) ?? {},
      )) {
        const target = property.$ref
          ? schema.$defs[String(property.$ref).split("/").pop() as string]
          : property;
        if (!(property.title ?? target.title) || !(property.description ?? target.description))
          missing.push(`${path}/${name}`);
        visit(property, `${path}/${name}`);
      }
      for (const [name, def] of Object.entries((record.$defs as Record<string, unknown>) ?? {}))
        visit(def, `#/$defs/${name}`);
    };
    visit(schema, "#");
    expect(missing).toEqual([]);
  });
});

describe("presets", () => {
  it.each(Object.values(PRESETS))("$name is consistent", (preset) => {
    expect(preset.hosts).toContain(preset.smtp.host);
    expect(preset.allowedPorts).toContain(preset.smtp.port);
    expect(preset.allowedProtocols).toContain(preset.smtp.protocol);
    expect(preset.issuerHosts).toContain(new URL(preset.issuer).hostname);
    // The preset's own scopes use the preferred spelling of each required scope, and none it rejects.
    for (const required of preset.requiredScopes) expect(preset.scopes).toContain(required.anyOf[0]);
    for (const rejected of preset.rejectedScopes) expect(preset.scopes).not.toContain(rejected.scope);
    // The codes the preset-scopes rule raises from this data are registered ones.
    for (const code of [`${preset.name}-scopes`, ...preset.rejectedScopes.map((r) => r.code ?? "")])
      if (code) expect(PROBLEM_CODES).toHaveProperty([code]);
  });

  it("hold the vendor facts the OAuth flows depend on", () => {
    expect(PRESETS.gmail).toMatchObject({
      authorizationParams: { access_type: "offline", prompt: "consent" },
      rejectedScopes: [expect.objectContaining({ scope: "offline_access", code: "gmail-offline-access" })],
      flows: ["loopback", "service-account"],
      appScopes: ["https://mail.google.com/"],
    });
    expect(PRESETS.office365).toMatchObject({
      flows: ["loopback", "device", "client-credentials"],
      appScopes: ["https://outlook.office365.com/.default"],
      tenantIssuer: "https://login.microsoftonline.com/{tenantid}/v2.0",
    });
    expect(PRESETS.office365).toMatchObject({
      rotatesRefreshTokens: true,
      allowedPorts: [587],
      allowedProtocols: ["starttls"],
    });
    expect(PRESETS.office365.scopes).toContain("offline_access");
  });
});
