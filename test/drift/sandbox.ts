// The sandboxes drift runs against: one sandbox OP and one sandbox SMTP server (XOAUTH2 checked by
// the OP's introspection endpoint), with helpers that write declarations and real grants (obtained
// by the loopback flow, approved on the OP's pages) to a temporary folder.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import type { MailServerDeclaration } from "../../provider/declaration/generated/declaration.js";
import { sandboxDeclaredAuth, writeSandboxGrant } from "../../sandbox/grant.js";
import { accessTokenVerifier, type SandboxOP, startSandboxOP } from "../../sandbox/op.js";
import type { SandboxSmtpOptions } from "../../sandbox/smtp.js";
import { type DeclarationOverrides, type SmtpFixture, startSmtpFixture } from "../helpers/smtp-sandbox.js";

export type OAuthOverrides = Omit<DeclarationOverrides, "auth"> & { auth?: Record<string, unknown> };

export interface DriftSandbox {
  op: SandboxOP;
  fixture: SmtpFixture;
  /** Where declarations, grants and ca.pem live (the declarations' baseDir). */
  dir: string;
  env: Record<string, string>;
  /** A Basic-auth declaration for the sandbox SMTP server. */
  basic(overrides?: DeclarationOverrides): MailServerDeclaration;
  /** An OAuth declaration for the sandbox OP and SMTP server, its grant in `grantFile`. */
  oauth(name: string, grantFile: string, overrides?: OAuthOverrides): MailServerDeclaration;
  /** Authorizes at the OP (loopback flow, its real pages) and writes an `authorize --out`-style file. */
  grant(file: string): Promise<string>;
  /** Writes a declaration as YAML; returns its path. */
  write(file: string, declaration: MailServerDeclaration): Promise<string>;
  stop(): Promise<void>;
}

export async function startDriftSandbox(options: { smtp?: SandboxSmtpOptions } = {}): Promise<DriftSandbox> {
  const op = await startSandboxOP();
  const fixture = await startSmtpFixture({
    ...options.smtp,
    verifyAccessToken: accessTokenVerifier(op),
  });
  const dir = fixture.dir;
  return {
    op,
    fixture,
    dir,
    env: fixture.env,
    basic: (overrides) => fixture.declaration(overrides),
    oauth(name, grantFile, overrides = {}) {
      const { auth, ...rest } = overrides;
      return fixture.declaration({
        name,
        from: { name: "Sandbox OAuth" },
        ...rest,
        auth: {
          ...sandboxDeclaredAuth(op, { flow: "loopback", refreshToken: { file: grantFile } }),
          ...auth,
        },
      });
    },
    grant: (file) => writeSandboxGrant(op, join(dir, file), { flow: "loopback" }),
    async write(file, declaration) {
      const path = join(dir, file);
      await writeFile(path, stringify(declaration));
      return path;
    },
    async stop() {
      await Promise.all([fixture.stop(), op.stop()]);
    },
  };
}

/** A port on 127.0.0.1 that nothing listens on (taken, then released). */
export async function closedPort(): Promise<number> {
  const { createServer } = await import("node:net");
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === "string") throw new Error("no port");
  return address.port;
}

/** A fresh temporary folder. */
export async function tempDir(prefix: string): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}
