// Reading what Pulumi recorded: both file formats, the shapes a program's exports may take, secret
// envelopes (never read unless --show-secrets put plaintext there) and the unreadable cases.
import { describe, expect, it } from "vitest";
import { parseRecordedState, readRecordedState } from "../../provider/drift/recorded-state.js";

const outputs = {
  host: "smtp.example.com",
  port: 587,
  protocol: "starttls",
  username: "u@example.com",
  replyTo: "",
};

describe("parseRecordedState", () => {
  it("reads stack outputs keyed by name at the top level", () => {
    const state = parseRecordedState(
      JSON.stringify({ "corp-mail": outputs, other: "a string export" }),
      "s.json",
    );
    expect(state.format).toBe("stack-output");
    expect(Object.fromEntries(state.byName)).toEqual({
      "corp-mail": { name: "corp-mail", ...outputs, replyTo: "" },
    });
  });

  it("reads one export holding them, as an object or a list, preferring each output's own name", () => {
    const nested = parseRecordedState(
      JSON.stringify({ mailservers: { a: outputs, b: { ...outputs, name: "bee" } } }),
      "s",
    );
    expect([...nested.byName.keys()]).toEqual(["a", "bee"]);
    const list = parseRecordedState(JSON.stringify({ mailservers: [{ ...outputs, name: "x" }] }), "s");
    expect([...list.byName.keys()]).toEqual(["x"]);
  });

  it("reads a stack export: MailServer resources only, the stack name, secrets unwrapped or dropped", () => {
    const envelope = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270" };
    const state = parseRecordedState(
      JSON.stringify({
        version: 3,
        deployment: {
          resources: [
            {
              urn: "urn:pulumi:staging::mail::pulumi:pulumi:Stack::mail-staging",
              type: "pulumi:pulumi:Stack",
              outputs: { host: "no" },
            },
            {
              urn: "urn:pulumi:staging::mail::pulumi-nodejs:dynamic/mailserver:MailServer::corp-mail",
              type: "pulumi-nodejs:dynamic/mailserver:MailServer",
              outputs: {
                ...outputs,
                stateVersion: 1,
                fromAddress: { ...envelope, plaintext: JSON.stringify("from@example.com") },
                password: { ...envelope, ciphertext: "v1:abc" },
                endpoints: { token: "https://login.example.com/token" },
              },
            },
            {
              urn: "urn:pulumi:staging::mail::pulumi-nodejs:dynamic/mailserver:MailServer::gone",
              type: "pulumi-nodejs:dynamic/mailserver:MailServer",
              delete: true,
              outputs: outputs,
            },
          ],
        },
      }),
      "export.json",
    );
    expect(state).toMatchObject({ format: "stack-export", stack: "staging" });
    expect(Object.fromEntries(state.byName)).toEqual({
      "corp-mail": {
        name: "corp-mail",
        ...outputs,
        fromAddress: "from@example.com",
        endpoints: { token: "https://login.example.com/token" },
      },
    });
  });

  it("refuses what is not a state: not JSON, not an object, no MailServer outputs", () => {
    expect(() => parseRecordedState("{", "a.json")).toThrow(/the state file a\.json is not JSON/);
    expect(() => parseRecordedState("[1]", "a.json")).toThrow("the state file a.json is not a JSON object");
    expect(() => parseRecordedState('{"bucket": "s3://x"}', "a.json")).toThrow(/holds no MailServer outputs/);
    expect(() => parseRecordedState('{"deployment": {"resources": []}}', "a.json")).toThrow(
      /no MailServer resource in the checkpoint/,
    );
  });
});

describe("readRecordedState", () => {
  it("throws state-unreadable for a file that cannot be read", async () => {
    await expect(readRecordedState("/no/such/state.json")).rejects.toMatchObject({
      code: "state-unreadable",
      message: "the state file /no/such/state.json cannot be read (ENOENT)",
    });
    await expect(readRecordedState("/")).rejects.toMatchObject({ code: "state-unreadable" });
  });
});
