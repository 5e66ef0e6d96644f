/**
 * The Pulumi resource. Only this file imports @pulumi/pulumi at the top level: the program loads
 * it; the provider host loads only the shim's text and, through it, ./lifecycle.js.
 */
import { dirname, isAbsolute, relative, resolve } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type {
  BasicAuthentication,
  From,
  IdentityService,
  MailServerDeclaration,
  OAuthAuthentication,
  SecretReference,
  SMTPServer,
  TestEmail,
} from "./declaration/generated/declaration.js";
import { MailServerError } from "./errors.js";
import {
  inlineSecretReference,
  OUTPUT_KEYS,
  type ResolvedEndpoints,
  SECRET_OUTPUT_KEYS,
  type VerificationOutput,
} from "./lifecycle/state.js";
import { mailServerProvider } from "./shim.js";

/** A secret: a reference ({ env }, { file }, { config }) or a value such as `pulumi.secret(...)` or `config.requireSecret(...)`. */
export type SecretInput = SecretReference | pulumi.Input<string>;

type WithSecretInputs<T, K extends keyof T> = Omit<T, K> & { [P in K]?: SecretInput };

export type BasicAuthenticationArgs = WithSecretInputs<BasicAuthentication, "password"> & {
  password: SecretInput;
};
export type OAuthAuthenticationArgs = WithSecretInputs<
  OAuthAuthentication,
  "clientSecret" | "refreshToken" | "serviceAccountKey"
>;
export type IdentityServiceArgs = WithSecretInputs<IdentityService, "clientSecret"> & {
  clientSecret: SecretInput;
};

/**
 * The declaration's shape with Pulumi inputs. Secrets are references or secret values; a plain
 * string is accepted only through `pulumi.secret(...)` (it is stored as a Pulumi secret).
 */
export interface MailServerArgs {
  version?: pulumi.Input<1>;
  /** Defaults to the resource name. */
  name?: pulumi.Input<string>;
  server?: pulumi.Input<"custom" | "builtin">;
  preset?: pulumi.Input<"gmail" | "office365">;
  smtp?: pulumi.Input<SMTPServer>;
  auth?: BasicAuthenticationArgs | OAuthAuthenticationArgs;
  from?: pulumi.Input<From>;
  replyTo?: pulumi.Input<string>;
  /** The identity service that stores the setting (a Keycloak realm's email settings). */
  service?: IdentityServiceArgs;
  testEmail?: pulumi.Input<TestEmail>;
  /**
   * Folder that `file` references (and smtp.tls.ca) are relative to. Defaults to the program's
   * working directory; `MailServer.fromFile` uses the declaration's folder.
   */
  baseDir?: string;
}

/** Resource options; `testEmailHooks: false` never attaches the post-deploy hooks (Pulumi CLI older than 3.182). */
export interface MailServerOptions extends pulumi.CustomResourceOptions {
  testEmailHooks?: boolean;
}

/** The type token: module `mailserver`, type `MailServer`, so policies and `pulumi stack` can name it. */
export const MAIL_SERVER_TYPE = "pulumi-nodejs:dynamic/mailserver:MailServer";

const SECRET_FIELDS = ["password", "clientSecret", "refreshToken", "serviceAccountKey"] as const;

/**
 * An identity service's outbound mail server setting, applied by `pulumi up`.
 *
 * create/update validate the declaration, discover the issuer, authorize (device or loopback flow)
 * when no usable grant exists, and verify SMTP AUTH before anything is saved. When
 * `testEmail.onDeploy` is true, resource hooks send the test email after each create/update
 * (Pulumi 3.182+); with `testEmail.required` it is sent inside create/update instead.
 *
 * @example
 * new MailServer("corp-mail", {
 *   version: 1,
 *   smtp: { host: "smtp.example.com", protocol: "tls" },
 *   auth: { method: "basic", username: "mailer", password: { config: "mailserver:password" } },
 *   from: { address: "no-reply@example.com" },
 * });
 * @see https://www.pulumi.com/docs/iac/concepts/resources/dynamic-providers/
 */
export class MailServer extends pulumi.dynamic.Resource {
  declare readonly name: pulumi.Output<string>;
  declare readonly stateVersion: pulumi.Output<number>;
  declare readonly server: pulumi.Output<"custom" | "builtin" | undefined>;
  declare readonly host: pulumi.Output<string | undefined>;
  declare readonly port: pulumi.Output<number | undefined>;
  declare readonly protocol: pulumi.Output<"tls" | "starttls" | undefined>;
  declare readonly username: pulumi.Output<string | undefined>;
  declare readonly fromName: pulumi.Output<string | undefined>;
  declare readonly fromAddress: pulumi.Output<string | undefined>;
  declare readonly replyTo: pulumi.Output<string | undefined>;
  declare readonly issuer: pulumi.Output<string | undefined>;
  declare readonly endpoints: pulumi.Output<ResolvedEndpoints | undefined>;
  declare readonly scopes: pulumi.Output<string[] | undefined>;
  declare readonly grantedAt: pulumi.Output<string | undefined>;
  declare readonly lastVerifiedAt: pulumi.Output<string | undefined>;
  declare readonly verification: pulumi.Output<VerificationOutput | undefined>;
  declare readonly certificate: pulumi.Output<{ fingerprint256?: string; notAfter?: string } | undefined>;
  /** Secret. */
  declare readonly refreshToken: pulumi.Output<string | undefined>;
  /** Secret. */
  declare readonly password: pulumi.Output<string | undefined>;
  /** Secret. */
  declare readonly clientSecret: pulumi.Output<string | undefined>;
  /** Secret: the identity service's admin client secret (`service.clientSecret`), for refresh and delete. */
  declare readonly serviceClientSecret: pulumi.Output<string | undefined>;
  /** Secret: nodemailer transport options (XOAUTH2 with refresh for OAuth), ready for applications. */
  declare readonly transport: pulumi.Output<Record<string, unknown> | undefined>;

  constructor(name: string, args: MailServerArgs, opts: MailServerOptions = {}) {
    const { testEmailHooks, ...resourceOptions } = opts;
    const props = toProviderInputs(name, args);
    const hooks = testEmailHooks === false ? undefined : deployHooks(args.testEmail);
    super(
      mailServerProvider,
      name,
      {
        ...props,
        // Outputs the provider fills in; declared so they exist on the resource object.
        ...Object.fromEntries(OUTPUT_KEYS.map((key) => [key, undefined])),
      },
      {
        ...resourceOptions,
        additionalSecretOutputs: [
          ...new Set([...(resourceOptions.additionalSecretOutputs ?? []), ...SECRET_OUTPUT_KEYS]),
        ],
        ...(hooks && { hooks: mergeHooks(resourceOptions.hooks, hooks) }),
      },
      "mailserver",
      "MailServer",
    );
  }

  /**
   * Declares a MailServer from a YAML or JSON declaration file; `file` references are relative to
   * the file's folder. The resource is named after the declaration's `name`.
   * @example
   * const mail = await MailServer.fromFile("mailservers/corp-mail.yaml");
   */
  static async fromFile(path: string, opts?: MailServerOptions): Promise<MailServer> {
    const { loadDeclarationFile } = await import("./declaration/load.js");
    const { describeErrors } = await import("./declaration/problem.js");
    const loaded = await loadDeclarationFile(path);
    if (!loaded.declaration) {
      throw new MailServerError(
        "declaration-invalid",
        `${path} is not a valid declaration:\n  ${describeErrors(path, loaded.problems).join("\n  ")}`,
      );
    }
    return MailServer.fromDeclaration(loaded.declaration, dirname(resolve(path)), opts);
  }

  /** Declares a MailServer from an already validated declaration whose `file` references are relative to `baseDir`. */
  static fromDeclaration(
    declaration: MailServerDeclaration,
    baseDir: string,
    opts?: MailServerOptions,
  ): MailServer {
    return new MailServer(declaration.name, { ...(declaration as MailServerArgs), baseDir }, opts);
  }
}

/**
 * Builds the provider's inputs: secret values (and `{ config }` references, which only the program
 * can read) go into `secretValues`, a Pulumi secret; the declaration keeps a reference in their
 * place, so the provider's check validates exactly what `mailserver validate` would.
 */
function toProviderInputs(name: string, args: MailServerArgs): Record<string, pulumi.Input<unknown>> {
  const { baseDir, auth, service, ...rest } = args;
  const secretValues: Record<string, pulumi.Input<string>> = {};
  const providerAuth = auth && withSecretReferences("auth", auth, SECRET_FIELDS, secretValues);
  const providerService = service && withSecretReferences("service", service, ["clientSecret"], secretValues);
  return {
    version: 1,
    name,
    ...rest,
    ...(providerAuth && { auth: providerAuth }),
    ...(providerService && { service: providerService }),
    baseDir: projectRelative(baseDir ?? "."),
    ...(Object.keys(secretValues).length > 0 && { secretValues: pulumi.secret(pulumi.all(secretValues)) }),
  };
}

/** The block with each secret field as a reference; the values of `{ config }` and inline secrets go into `secretValues`. */
function withSecretReferences(
  parent: "auth" | "service",
  block: object,
  fields: readonly string[],
  secretValues: Record<string, pulumi.Input<string>>,
): Record<string, unknown> {
  const result: Record<string, unknown> = { ...block };
  for (const field of fields) {
    const value = result[field];
    if (value === undefined) continue;
    if (isReference(value)) {
      if ("config" in value) secretValues[value.config] = configSecret(value.config);
      continue;
    }
    const reference = inlineSecretReference(`${parent}.${field}`) as { config: string };
    secretValues[reference.config] = pulumi.secret(value as pulumi.Input<string>);
    result[field] = reference;
  }
  return result;
}

function isReference(value: unknown): value is SecretReference {
  if (!value || typeof value !== "object" || pulumi.Output.isInstance(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && ["env", "file", "config"].includes(keys[0] as string);
}

/** Reads `{ config: "ns:key" }` (or a key of the project's namespace) as a Pulumi secret. */
function configSecret(key: string): pulumi.Output<string> {
  const colon = key.indexOf(":");
  const config = colon > 0 ? new pulumi.Config(key.slice(0, colon)) : new pulumi.Config();
  return config.requireSecret(colon > 0 ? key.slice(colon + 1) : key);
}

/** baseDir relative to the project directory, with forward slashes: state must not depend on the checkout's path. */
function projectRelative(folder: string): string {
  const absolute = isAbsolute(folder) ? folder : resolve(folder);
  const path = relative(process.cwd(), absolute).split("\\").join("/");
  return path === "" ? "." : path;
}

/**
 * The post-deploy hooks. They run in the program process with the new outputs. Whether to send is
 * decided when the hook runs (testEmail may be an Output); only a plainly absent testEmail, or
 * one with onDeploy false or required true (then create/update send it), attaches none.
 */
function deployHooks(testEmail: MailServerArgs["testEmail"]): pulumi.ResourceHookBinding | undefined {
  if (testEmail === undefined) return undefined;
  if (!pulumi.Output.isInstance(testEmail) && !(testEmail instanceof Promise)) {
    const plain = testEmail as TestEmail;
    if (plain.onDeploy === false || plain.required === true) return undefined;
  }
  const send = async (hookArgs: pulumi.ResourceHookArgs) => {
    const { sendDeployTestEmail } = await import("./lifecycle/deploy-hook.js");
    await sendDeployTestEmail(hookArgs.newOutputs ?? {}, { resourceName: hookArgs.name });
  };
  return { afterCreate: [send], afterUpdate: [send] };
}

function mergeHooks(
  given: pulumi.ResourceHookBinding | undefined,
  ours: pulumi.ResourceHookBinding,
): pulumi.ResourceHookBinding {
  return {
    ...given,
    afterCreate: [...(given?.afterCreate ?? []), ...(ours.afterCreate ?? [])],
    afterUpdate: [...(given?.afterUpdate ?? []), ...(ours.afterUpdate ?? [])],
  };
}
