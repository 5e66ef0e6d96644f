/**
 * Captures what a Pulumi program registers for a MailServer - its type token, its inputs and the
 * `__provider` text the SDK serializes - by running the program under `pulumi.runtime.setMocks`
 * in a fresh Node process (the compiled package, as a user's program loads it; vitest's module
 * transform would change the very function text being serialized). The demo and the bench, in
 * plain Node, use sandbox/capture-registrations.ts in-process instead.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { SECRET_SIG } from "../../sandbox/capture-registrations.js";

const run = promisify(execFile);

/** Marker in `args` for a value the program wraps in `pulumi.secret(...)`. */
export interface SecretMarker {
  $secret: string;
}

export interface CapturedResource {
  type: string;
  name: string;
  /** Inputs as the engine receives them, secrets unwrapped (their top-level keys are in `secretKeys`). */
  inputs: Record<string, unknown>;
  secretKeys: string[];
  /** The serialized provider (`__provider`). */
  provider: string;
}

const PROGRAM = `
import * as pulumi from "@pulumi/pulumi";
const [argsJson, configJson] = process.argv.slice(1);
const captured = [];
pulumi.runtime.setMocks({
  newResource(args) {
    captured.push({ type: args.type, name: args.name, inputs: args.inputs });
    return { id: args.name, state: args.inputs };
  },
  call(args) { return args.inputs; },
}, "mailserver-test", "dev", false);
for (const [key, value] of Object.entries(JSON.parse(configJson))) pulumi.runtime.setConfig(key, value);
const unmark = (value) => {
  if (Array.isArray(value)) return value.map(unmark);
  if (value && typeof value === "object") {
    if (typeof value.$secret === "string") return pulumi.secret(value.$secret);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unmark(v)]));
  }
  return value;
};
const { MailServer } = await import("pulumi-mailserver");
const { name, args, opts } = JSON.parse(argsJson);
const resource = new MailServer(name, unmark(args), opts ?? {});
await new Promise((resolve) => resource.urn.apply(resolve));
await new Promise((resolve) => setTimeout(resolve, 50));
const registered = captured.find((entry) => entry.name === name);
process.stdout.write(JSON.stringify(registered));
`;

/**
 * Runs `new MailServer(name, args, opts)` under mocks with `cwd` as the project directory (it must
 * resolve `pulumi-mailserver`: this repository after `npm run build`, or a copy of it).
 */
export async function captureMailServer(
  cwd: string,
  name: string,
  args: Record<string, unknown>,
  options: { config?: Record<string, string>; opts?: Record<string, unknown> } = {},
): Promise<CapturedResource> {
  const { stdout } = await run(
    process.execPath,
    [
      "--input-type=module",
      "--no-warnings",
      "-e",
      PROGRAM,
      JSON.stringify({ name, args, opts: options.opts }),
      JSON.stringify(options.config ?? {}),
    ],
    { cwd, maxBuffer: 16 * 1024 * 1024 },
  );
  const registered = JSON.parse(stdout) as { type: string; name: string; inputs: Record<string, unknown> };
  const secretKeys: string[] = [];
  const inputs: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(registered.inputs)) {
    if (value && typeof value === "object" && (value as Record<string, unknown>)[SECRET_SIG] !== undefined) {
      secretKeys.push(key);
      inputs[key] = (value as { value: unknown }).value;
    } else {
      inputs[key] = value;
    }
  }
  const provider = inputs.__provider;
  if (typeof provider !== "string") throw new Error("the program registered no __provider");
  return {
    type: registered.type,
    name: registered.name,
    inputs,
    secretKeys,
    provider,
  };
}
