// Starts the sandbox SMTP server for a test file and builds declarations that point at it, with
// the throwaway CA written to a temporary folder as the declaration's smtp.tls.ca file.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import type { MailServerDeclaration } from "../../provider/declaration/generated/declaration.js";
import {
  type NormalizedCustomDeclaration,
  normalizeDeclaration,
} from "../../provider/declaration/normalize.js";
import type { SmtpCredentials } from "../../provider/smtp/session.js";
import { type SandboxSmtp, type SandboxSmtpOptions, startSandboxSmtp } from "../../sandbox/smtp.js";

/** Short timeouts so that fault tests finish quickly (the defaults are 10 s / 10 s / 30 s). */
export const FAST_TIMEOUTS = { connectionMs: 3_000, greetingMs: 800, socketMs: 3_000 };

/** The password of the sandbox account, as the env reference of the declarations names it. */
export const PASSWORD_ENV = "SANDBOX_SMTP_PASSWORD";

export interface SmtpFixture {
  smtp: SandboxSmtp;
  /** A temporary folder holding ca.pem: the declarations' baseDir. */
  dir: string;
  /** A Basic-auth declaration for the sandbox; `protocol` picks the listener. */
  declaration(overrides?: DeclarationOverrides): MailServerDeclaration;
  normalized(overrides?: DeclarationOverrides): NormalizedCustomDeclaration;
  /**
   * Writes `declaration({ name, ...overrides })` as `<dir>/<name>.yaml`, next to ca.pem (so the
   * CLI finds the CA file), and returns its path.
   */
  writeDeclaration(name: string, overrides?: DeclarationOverrides): Promise<string>;
  credentials: Extract<SmtpCredentials, { method: "basic" }>;
  env: Record<string, string>;
  stop(): Promise<void>;
}

export interface DeclarationOverrides {
  protocol?: "tls" | "starttls";
  port?: number;
  smtp?: Partial<NonNullable<MailServerDeclaration["smtp"]>>;
  auth?: MailServerDeclaration["auth"];
  from?: MailServerDeclaration["from"];
  replyTo?: string;
  testEmail?: MailServerDeclaration["testEmail"];
  preset?: MailServerDeclaration["preset"];
  name?: string;
}

export async function startSmtpFixture(options: SandboxSmtpOptions = {}): Promise<SmtpFixture> {
  const smtp = await startSandboxSmtp(options);
  const dir = await mkdtemp(join(tmpdir(), "mailserver-smtp-"));
  await writeFile(join(dir, "ca.pem"), smtp.caPem);
  const declaration = (overrides: DeclarationOverrides = {}): MailServerDeclaration => {
    const protocol = overrides.protocol ?? "tls";
    return {
      version: 1,
      name: overrides.name ?? "sandbox-mail",
      ...(overrides.preset && { preset: overrides.preset }),
      smtp: {
        host: smtp.host,
        protocol,
        port: overrides.port ?? (protocol === "tls" ? smtp.tlsPort : smtp.starttlsPort),
        tls: { ca: { file: "ca.pem" } },
        timeouts: FAST_TIMEOUTS,
        ...overrides.smtp,
      },
      auth: overrides.auth ?? {
        method: "basic",
        username: smtp.account.username,
        password: { env: PASSWORD_ENV },
      },
      from: overrides.from ?? { name: "Sandbox Sender", address: smtp.account.username },
      ...(overrides.replyTo !== undefined && { replyTo: overrides.replyTo }),
      testEmail: overrides.testEmail ?? { to: ["admin@sandbox.test"] },
    };
  };
  return {
    smtp,
    dir,
    declaration,
    normalized: (overrides) => normalizeDeclaration(declaration(overrides)) as NormalizedCustomDeclaration,
    async writeDeclaration(name, overrides = {}) {
      const path = join(dir, `${name}.yaml`);
      await writeFile(path, stringify(declaration({ name, ...overrides })));
      return path;
    },
    credentials: { method: "basic", username: smtp.account.username, password: smtp.account.password },
    env: { [PASSWORD_ENV]: smtp.account.password },
    async stop() {
      await smtp.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
