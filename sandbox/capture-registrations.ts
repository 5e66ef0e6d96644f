/**
 * What a Pulumi program registers - type tokens, names, inputs with the `__provider` text the SDK
 * serializes - captured in this process by running the program under `pulumi.runtime.setMocks`.
 * For `npm run demo` and bench/provider.bench.mjs, which run the compiled package in plain Node.
 * Tests use test/helpers/engine-capture.ts instead: it runs the program in a fresh Node process,
 * because vitest's module transform would change the very function text being serialized; and
 * this capture cannot serve them for the same reason (it serializes whatever the caller loaded).
 */
import type * as PulumiModule from "@pulumi/pulumi";

/** The key the SDK's serialization sets on a secret value (`{ [SECRET_SIG]: ..., value }`). */
export const SECRET_SIG = "4dabf18193072939515e22adb298388d";

export interface Registration {
  type: string;
  name: string;
  /** Inputs as the engine receives them, top-level secrets unwrapped. */
  inputs: Record<string, unknown>;
}

/**
 * Registers the resources `program` creates under mocks (project `mailserver-demo`, stack `dev`)
 * and returns what the engine would receive, in registration order.
 * @example
 * const [mail] = await captureRegistrations(async () => [await MailServer.fromFile("corp-mail.yaml")]);
 */
export async function captureRegistrations(
  program: (pulumi: typeof PulumiModule) => Promise<PulumiModule.Resource[]>,
): Promise<Registration[]> {
  const pulumi = await import("@pulumi/pulumi");
  const captured: Registration[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        captured.push({ type: args.type, name: args.name, inputs: args.inputs });
        return { id: args.name, state: args.inputs };
      },
      call: (args) => args.inputs,
    },
    "mailserver-demo",
    "dev",
    false,
  );
  const resources = await program(pulumi);
  await Promise.all(
    resources.map((resource) => new Promise<void>((resolve) => resource.urn.apply(() => resolve()))),
  );
  // A short grace period for registrations still in flight once the URNs have resolved.
  await new Promise((resolve) => setTimeout(resolve, 20));
  return captured.map((entry) => ({ ...entry, inputs: unwrapSecrets(entry.inputs) }));
}

function unwrapSecrets(inputs: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(inputs).map(([key, value]) => {
      const secret = value as Record<string, unknown> | null | undefined;
      return [key, secret && typeof secret === "object" && secret[SECRET_SIG] ? secret.value : value];
    }),
  );
}
