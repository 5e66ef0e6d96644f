// "Secrets stay secret in the state (use additionalSecretOutputs)". The engine-protocol tests check
// that a secret appears only under keys of SECRET_OUTPUT_KEYS - the implementation's own list - so
// they could not notice the registration dropping that list. This test reads what the SDK actually
// sends to the engine (RegisterResourceRequest.additionalSecretOutputs) for a MailServer, from a
// program run as a user's would be (fresh Node process, the built package), and compares it with
// the list of secret outputs.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { SECRET_OUTPUT_KEYS } from "../../provider/lifecycle/state.js";
import { SECRET_OUTPUTS } from "../helpers/contracts.js";

const PROGRAM = `
import * as pulumi from "@pulumi/pulumi";
pulumi.runtime.setMocks(
  { newResource: (args) => ({ id: args.name, state: args.inputs }), call: (args) => args.inputs },
  "audit", "dev", false,
);
// The mock monitor receives the same RegisterResourceRequest the engine would.
const monitor = pulumi.runtime.getMonitor();
const registered = [];
const register = monitor.registerResource.bind(monitor);
monitor.registerResource = (request, callback) => {
  registered.push({
    type: request.getType(),
    name: request.getName(),
    additionalSecretOutputs: request.getAdditionalsecretoutputsList(),
  });
  return register(request, callback);
};
const { MailServer } = await import("pulumi-mailserver");
const resource = new MailServer("audit-mail", {
  version: 1,
  smtp: { host: "127.0.0.1", protocol: "tls" },
  auth: { method: "basic", username: "u@audit.test", password: pulumi.secret("audit-password-5c1e") },
  from: { address: "a@audit.test" },
  testEmail: { to: ["x@audit.test"], onDeploy: false },
}, { additionalSecretOutputs: ["host"] });
await new Promise((resolve) => resource.urn.apply(resolve));
process.stdout.write(JSON.stringify(registered));
`;

describe("the MailServer registration", () => {
  it("asks the engine to keep every secret output of the issue secret (and the caller's own)", async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--input-type=module", "--no-warnings", "-e", PROGRAM],
      { cwd: process.cwd() },
    );
    const registered = JSON.parse(stdout) as Array<{ type: string; additionalSecretOutputs: string[] }>;
    const mail = registered.find((entry) => entry.type.endsWith(":MailServer"));
    expect(mail?.type).toBe("pulumi-nodejs:dynamic/mailserver:MailServer");
    // The issue: "as Pulumi secrets: refresh token, password, client secret, and ... transport".
    expect(mail?.additionalSecretOutputs).toEqual(expect.arrayContaining(SECRET_OUTPUTS));
    // The list the engine-protocol test trusts is the list really registered.
    expect(mail?.additionalSecretOutputs).toEqual(expect.arrayContaining([...SECRET_OUTPUT_KEYS]));
    // A caller's own additionalSecretOutputs are kept, not replaced.
    expect(mail?.additionalSecretOutputs).toContain("host");
    expect(stdout).not.toContain("audit-password-5c1e");
  });
});
