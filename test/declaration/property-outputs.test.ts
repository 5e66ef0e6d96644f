// Property test of validate over generated declarations: whatever the input, no throw, and no
// control character of the input reaches any output (text, JSON, GitHub annotations) unescaped.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import type { CliIO } from "../../cli/io.js";
import { writeJson } from "../../cli/io.js";
import { problemsAsGithub, problemsAsJson, problemsAsText } from "../../cli/render/problems.js";
import { loadDeclarationText } from "../../provider/declaration/load.js";
import { hasErrors } from "../../provider/declaration/problem.js";
import { UNESCAPED_CONTROL } from "../helpers/bad-input.js";

/** Strings over every code point, biased towards the ones that act on terminals and CI logs. */
const hostileText = fc.oneof(
  fc.string({ unit: "binary", maxLength: 12 }),
  fc.constantFrom("\u001b[31m", "\u001b]0;t\u0007", "\r\n::error::x", "\u202e", "\u009b2J", "\u0000", "%0A"),
);
const field = fc.oneof(
  fc.constantFrom("version", "name", "server", "preset", "smtp", "auth", "from", "replyTo", "testEmail"),
  hostileText,
);
const leaf = fc.oneof(hostileText, fc.integer(), fc.boolean(), fc.constant(null));
const value = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leaf,
    fc.array(tie("node"), { maxLength: 3 }),
    fc.dictionary(field, tie("node"), { maxKeys: 4 }),
  ),
})).node;
const declaration = fc.record(
  {
    version: fc.oneof(fc.constant(1), leaf),
    name: fc.oneof(fc.constant("corp-mail"), hostileText),
    server: fc.constantFrom("custom", "builtin"),
    preset: fc.constantFrom("gmail", "office365", "other"),
    smtp: value,
    auth: fc.oneof(
      fc.record({ method: fc.constantFrom("basic", "oauth"), username: hostileText, password: value }),
      value,
    ),
    from: fc.record({ name: hostileText, address: hostileText }, { requiredKeys: [] }),
    testEmail: fc.record({ to: fc.array(hostileText, { maxLength: 4 }) }),
    extra: fc.dictionary(hostileText, value, { maxKeys: 3 }),
  },
  { requiredKeys: ["version", "name"] },
);

function outputs(text: string): string[] {
  const result = loadDeclarationText(text, "generated\u001b[0m.yaml");
  const reports = [{ file: result.file, valid: !hasErrors(result.problems), problems: result.problems }];
  let json = "";
  const io: CliIO = {
    stdout: { write: (chunk: string) => (json += chunk), isTTY: false },
    stderr: { write: () => true },
    env: {},
    cwd: "/",
  };
  writeJson(io, problemsAsJson(reports));
  return [problemsAsText(reports, io), json, problemsAsGithub(reports)];
}

describe("validate over generated declarations", () => {
  it("never throws and never echoes a control character (2,000 declarations)", () => {
    fc.assert(
      fc.property(declaration, fc.boolean(), (generated, asJson) => {
        const { extra, ...fields } = generated as Record<string, unknown> & { extra?: object };
        const text = asJson ? JSON.stringify({ ...fields, ...extra }) : stringify({ ...fields, ...extra });
        for (const output of outputs(text)) expect(output).not.toMatch(UNESCAPED_CONTROL);
      }),
      { numRuns: 2000 },
    );
  });

  it("nor on raw text with hostile characters spliced in (500 more)", () => {
    const base = stringify({ version: 1, name: "corp-mail", smtp: { host: "smtp.example.com" } });
    fc.assert(
      fc.property(fc.nat(base.length), hostileText, (at, inserted) => {
        for (const output of outputs(base.slice(0, at) + inserted + base.slice(at))) {
          expect(output).not.toMatch(UNESCAPED_CONTROL);
        }
      }),
      { numRuns: 500 },
    );
  });
});
