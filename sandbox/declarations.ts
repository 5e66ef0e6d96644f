/**
 * Declarations for the sandboxes, as a user would write them: used by `npm run sandbox` (to try
 * the tool), `npm run demo` and the test that runs the manual's commands (test/docs/commands.test.ts). Built from the same objects the tests use (sandboxDeclaredAuth).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import type { MailServerDeclaration } from "../provider/declaration/generated/declaration.js";
import {
  SANDBOX_APP_FILES,
  type SandboxAppCredential,
  sandboxAppAuth,
  writeSandboxAppFiles,
} from "./app-auth.js";
import { sandboxDeclaredAuth } from "./grant.js";
import type { SandboxOP } from "./op.js";
import type { SandboxSmtp } from "./smtp.js";

export interface SandboxDeclarationOptions {
  name: string;
  /** Which listener of the sandbox SMTP server (default tls: implicit TLS). */
  protocol?: "tls" | "starttls";
  /** Basic with a password file, OAuth at the sandbox OP with a grant file, or an app-only credential. */
  auth:
    | { method: "basic"; passwordFile: string }
    | { method: "oauth"; flow: "device" | "loopback"; refreshTokenFile: string }
    | { method: "oauth"; app: SandboxAppCredential };
  /** The sandbox CA's PEM file, relative to the declaration (default ca.pem). */
  caFile?: string;
  fromName?: string;
  replyTo?: string;
  testEmail?: MailServerDeclaration["testEmail"];
}

/**
 * A declaration for the sandbox SMTP server (and OP): from.address is the Basic account's, and
 * with OAuth it is left to the ID token's email, as on the mail server page.
 * @example
 * const declaration = sandboxDeclaration(op, smtp, { name: "demo", auth: { method: "oauth", flow: "device", refreshTokenFile: ".secrets/demo.json" } });
 */
export function sandboxDeclaration(
  op: SandboxOP,
  smtp: SandboxSmtp,
  options: SandboxDeclarationOptions,
): MailServerDeclaration {
  const protocol = options.protocol ?? "tls";
  const { auth } = options;
  return {
    version: 1,
    name: options.name,
    smtp: {
      host: smtp.host,
      protocol,
      port: protocol === "tls" ? smtp.tlsPort : smtp.starttlsPort,
      tls: { ca: { file: options.caFile ?? "ca.pem" } },
    },
    auth:
      auth.method === "basic"
        ? { method: "basic", username: smtp.account.username, password: { file: auth.passwordFile } }
        : "app" in auth
          ? sandboxAppAuth(op, auth.app)
          : sandboxDeclaredAuth(op, {
              flow: auth.flow,
              ...(auth.flow === "loopback" && { redirectUri: "http://127.0.0.1:0/callback" }),
              refreshToken: { file: auth.refreshTokenFile },
            }),
    from: {
      ...(options.fromName !== undefined && { name: options.fromName }),
      ...(auth.method === "basic" && { address: smtp.account.username }),
    },
    ...(options.replyTo !== undefined && { replyTo: options.replyTo }),
    testEmail: options.testEmail ?? { to: ["ops@sandbox.test"] },
  };
}

/** The declaration as a YAML file, with the schema comment editors read for completion and help. */
export function declarationYaml(
  declaration: MailServerDeclaration,
  schemaPath: string,
  note?: string,
): string {
  const header = [`# yaml-language-server: $schema=${schemaPath}`, ...(note ? [`# ${note}`] : [])].join("\n");
  return `${header}\n${stringify(declaration, { flowCollectionPadding: true })}`;
}

/**
 * The folder `npm run sandbox` writes (default `.sandbox/`): the sandbox CA as `ca.pem`, the Basic
 * account's password in `.secrets/smtp-password` (mode 0600), three declarations that a person
 * authorizes - `basic-starttls.yaml`, `oauth-device.yaml` and `oauth-loopback.yaml` (their grants
 * go to `.secrets/oauth-device.json` and `.secrets/oauth-loopback.json` once authorized) - and
 * three that need no person, with their keys in `.secrets/`: `app-client-credentials.yaml` (a
 * client assertion with a certificate), `app-client-secret.yaml` and `app-service-account.yaml`.
 * @returns the declarations' file names
 */
export function writeSandboxFolder(
  dir: string,
  op: SandboxOP,
  smtp: SandboxSmtp,
  schemaPath: string,
): string[] {
  mkdirSync(join(dir, ".secrets"), { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, "ca.pem"), smtp.caPem);
  writeFileSync(join(dir, ".secrets/smtp-password"), `${smtp.account.password}\n`, { mode: 0o600 });
  const note = "Written by npm run sandbox: valid while it runs.";
  const declarations: Record<string, MailServerDeclaration> = {
    "basic-starttls.yaml": sandboxDeclaration(op, smtp, {
      name: "sandbox-basic",
      protocol: "starttls",
      auth: { method: "basic", passwordFile: ".secrets/smtp-password" },
      fromName: "Sandbox Notifications",
    }),
    "oauth-device.yaml": sandboxDeclaration(op, smtp, {
      name: "sandbox-oauth-device",
      auth: { method: "oauth", flow: "device", refreshTokenFile: ".secrets/oauth-device.json" },
      fromName: "Sandbox Notifications",
    }),
    "oauth-loopback.yaml": sandboxDeclaration(op, smtp, {
      name: "sandbox-oauth-loopback",
      auth: { method: "oauth", flow: "loopback", refreshTokenFile: ".secrets/oauth-loopback.json" },
    }),
    "app-client-credentials.yaml": sandboxDeclaration(op, smtp, {
      name: "sandbox-app-certificate",
      auth: {
        method: "oauth",
        app: {
          kind: "client-assertion",
          privateKeyFile: `.secrets/${SANDBOX_APP_FILES.privateKey}`,
          certificateFile: `.secrets/${SANDBOX_APP_FILES.certificate}`,
        },
      },
      fromName: "Sandbox App",
    }),
    "app-client-secret.yaml": sandboxDeclaration(op, smtp, {
      name: "sandbox-app-secret",
      auth: {
        method: "oauth",
        app: { kind: "client-secret", clientSecret: { file: `.secrets/${SANDBOX_APP_FILES.clientSecret}` } },
      },
    }),
    "app-service-account.yaml": sandboxDeclaration(op, smtp, {
      name: "sandbox-app-service-account",
      auth: {
        method: "oauth",
        app: {
          kind: "service-account",
          serviceAccountKey: { file: `.secrets/${SANDBOX_APP_FILES.serviceAccountKey}` },
        },
      },
    }),
  };
  writeSandboxAppFiles(op, join(dir, ".secrets"));
  for (const [name, declaration] of Object.entries(declarations)) {
    writeFileSync(join(dir, name), declarationYaml(declaration, schemaPath, note));
  }
  return Object.keys(declarations);
}
