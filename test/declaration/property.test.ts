import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { loadDeclarationText } from "../../provider/declaration/load.js";
import { validateDeclarationValue } from "../../provider/declaration/validate.js";

const valid = {
  version: 1,
  name: "corp-mail",
  preset: "office365",
  auth: {
    method: "oauth",
    clientId: "c",
    scopes: ["https://outlook.office365.com/SMTP.Send", "openid", "email", "offline_access"],
    username: "ops@contoso.com",
    refreshToken: { file: ".secrets/corp-mail.json" },
  },
  from: { name: "Notifications", address: "no-reply@contoso.com" },
  replyTo: "support@contoso.com",
  testEmail: { to: ["ops@contoso.com"], onDeploy: true },
};

type Path = Array<string | number>;

function paths(value: unknown, prefix: Path = []): Path[] {
  if (value === null || typeof value !== "object") return [prefix];
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  return [prefix, ...entries.flatMap(([key, child]) => paths(child, [...prefix, key]))];
}

function mutate(root: unknown, path: Path, replacement: unknown, remove: boolean): unknown {
  const copy = structuredClone(root) as Record<string | number, unknown>;
  if (path.length === 0) return replacement;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = path[path.length - 1] as string | number;
  if (remove) delete node[last];
  else node[last] = replacement;
  return copy;
}

const anything = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.string(), { maxKeys: 3 }),
  fc.constantFrom("\r\n", "offline_access", "http://x", "basic", "oauth", "builtin", "device", -1, 70000),
);

describe("the validator never throws", () => {
  const allPaths = paths(valid);

  it("on mutated declarations (as values)", () => {
    fc.assert(
      fc.property(fc.constantFrom(...allPaths), anything, fc.boolean(), (path, replacement, remove) => {
        const result = validateDeclarationValue(mutate(valid, path, replacement, remove));
        expect(typeof result.valid).toBe("boolean");
        for (const problem of result.problems) expect(problem.code).toMatch(/^[a-z0-9-]+$/);
      }),
      { numRuns: 400 },
    );
  });

  it("on mutated declaration text", () => {
    const text = stringify(valid);
    fc.assert(
      fc.property(fc.nat(text.length), fc.string({ maxLength: 6 }), (at, inserted) => {
        const result = loadDeclarationText(text.slice(0, at) + inserted + text.slice(at + 1), "m.yaml");
        for (const problem of result.problems) {
          expect(problem.line).toBeGreaterThanOrEqual(1);
          expect(problem.column).toBeGreaterThanOrEqual(1);
        }
      }),
      { numRuns: 400 },
    );
  });

  it("never takes a missing value for a valid declaration", () => {
    for (const value of [undefined, null, "text", 1, []]) {
      expect(validateDeclarationValue(value)).toMatchObject({ valid: false, problems: [{ code: "schema" }] });
    }
  });

  it("and the unmutated declaration is valid", () => {
    expect(validateDeclarationValue(valid)).toMatchObject({ valid: true, problems: [] });
  });
});
