/**
 * A real Keycloak for the tests, the demo and the benchmarks: the pinned distribution that
 * scripts/install-keycloak.sh fetched and built (`kc.sh build`, dev-file database), started with
 * `kc.sh start --optimized` on a free 127.0.0.1 port, with its own database folder, a capped heap,
 * and the sandbox SMTP server's CA in its truststore (certificate checks stay on). Set up through
 * the admin REST API as a team would: a realm, a confidential admin client whose service account
 * holds realm-management's manage-realm and view-realm (and has an email, where Keycloak's test
 * email goes), and a user with an email.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import KeycloakAdminClient from "@keycloak/keycloak-admin-client";

/** The version scripts/install-keycloak.sh installs by default. */
export const KEYCLOAK_VERSION = "26.7.3";

/** Where scripts/install-keycloak.sh puts Keycloak: `KEYCLOAK_HOME`, else its cache folder. */
export function keycloakHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.KEYCLOAK_HOME) return env.KEYCLOAK_HOME;
  const version = env.KEYCLOAK_VERSION ?? KEYCLOAK_VERSION;
  const cacheRoot =
    env.PULUMI_MAILSERVER_CACHE ?? join(env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "pulumi-mailserver");
  return join(cacheRoot, "keycloak", version, `keycloak-${version}`);
}

/** Why no Keycloak can be started here (tests skip with it), or undefined when one can. */
export function keycloakUnavailable(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const home = keycloakHome(env);
  if (!existsSync(join(home, ".pulumi-mailserver-built"))) {
    return `no built Keycloak at ${home}: run scripts/install-keycloak.sh (needs java and mvn)`;
  }
  return undefined;
}

export interface RealmSetupOptions {
  realm: string;
  /** The admin client (default `mailserver-admin`). */
  clientId?: string;
  /** The service account user's email, where Keycloak sends its test email; null: none. */
  adminEmail?: string | null;
  /** A user with an email (default alice / alice@sandbox.test). */
  user?: { username: string; email: string };
}

/** A realm set up for the tests: its admin client's credentials. */
export interface SandboxRealm {
  realm: string;
  clientId: string;
  clientSecret: string;
  /** The admin client's service account user (its email gets Keycloak's test email). */
  serviceAccountUserId: string;
  adminEmail: string | null;
  user: { username: string; email: string };
}

export interface SandboxKeycloakOptions {
  /** The Keycloak home (default: keycloakHome()). */
  home?: string;
  /** PEM certificates Keycloak trusts for outgoing TLS, such as the sandbox SMTP server's CA. */
  trustPem?: string;
  /** The realm to set up at start (default `corp`). */
  realm?: RealmSetupOptions;
  /** JVM options (default: a 512 MiB heap cap). */
  javaOpts?: string;
  /** Milliseconds to wait for readiness (default 240 s: the first start on two busy cores is slow). */
  startTimeoutMs?: number;
}

export interface SandboxKeycloak {
  /** The server root, e.g. http://127.0.0.1:41234 (loopback http, as service.url allows). */
  url: string;
  port: number;
  pid: number;
  /** Milliseconds from spawn to ready (health/ready answered 200). */
  startMs: number;
  /** The realm set up at start. */
  realm: SandboxRealm;
  /** An admin client logged in as the bootstrap admin of master: console-style edits in tests. */
  consoleAdmin(): Promise<KeycloakAdminClient>;
  /** Sets up one more realm the same way. */
  setUpRealm(options: RealmSetupOptions): Promise<SandboxRealm>;
  /** Keycloak's recent console output (for a failure message). */
  output(): string;
  /** Stops the server (SIGTERM to the process group it was started in, SIGKILL after 20 s). */
  stop(): Promise<void>;
}

/**
 * Starts Keycloak and sets up a realm. Throws with the end of Keycloak's output when it does not
 * become ready in time.
 * @example
 * const keycloak = await startSandboxKeycloak({ trustPem: smtp.caPem });
 * // service: { type: keycloak, url: keycloak.url, realm: "corp", clientId: keycloak.realm.clientId, ... }
 * await keycloak.stop();
 */
export async function startSandboxKeycloak(options: SandboxKeycloakOptions = {}): Promise<SandboxKeycloak> {
  const home = options.home ?? keycloakHome();
  const unavailable = options.home ? undefined : keycloakUnavailable();
  if (unavailable) throw new Error(unavailable);
  const dataDir = await mkdtemp(join(tmpdir(), "pulumi-mailserver-keycloak-"));
  const instanceHome = await instanceHomeOf(home, dataDir);
  const port = await freePort();
  const adminPassword = randomBytes(18).toString("base64url");
  const args = [
    "start",
    "--optimized",
    "--http-enabled=true",
    "--http-host=127.0.0.1",
    `--http-port=${port}`,
    "--hostname-strict=false",
    // Each server its own database (and home, below), so servers started at once share nothing.
    `--db-url=jdbc:h2:file:${join(dataDir, "keycloakdb")};NON_KEYWORDS=VALUE`,
  ];
  if (options.trustPem) {
    const trust = join(dataDir, "trust.pem");
    await writeFile(trust, options.trustPem);
    args.push(`--truststore-paths=${trust}`);
  }
  const javaOpts = [options.javaOpts ?? "-Xms64m -Xmx512m", `-Djava.io.tmpdir=${dataDir}`].join(" ");
  const started = performance.now();
  const child = spawn(join(instanceHome, "bin", "kc.sh"), args, {
    cwd: dataDir,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      JAVA_OPTS: javaOpts,
      KC_BOOTSTRAP_ADMIN_USERNAME: "admin",
      KC_BOOTSTRAP_ADMIN_PASSWORD: adminPassword,
    },
  });
  let log = "";
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString("utf8")).slice(-20_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const stop = () =>
    stopProcessGroup(child, exited).finally(() => rm(dataDir, { recursive: true, force: true }));
  try {
    await waitUntilReady(url, exited, options.startTimeoutMs ?? 240_000, () => log);
  } catch (error) {
    await stop();
    throw error;
  }
  const startMs = Math.round(performance.now() - started);
  const consoleAdmin = async () => {
    const admin = new KeycloakAdminClient({ baseUrl: url, realmName: "master" });
    await admin.auth({
      grantType: "password",
      clientId: "admin-cli",
      username: "admin",
      password: adminPassword,
    });
    return admin;
  };
  const setUpRealm = async (realm: RealmSetupOptions) => setUpSandboxRealm(await consoleAdmin(), realm);
  let realm: SandboxRealm;
  try {
    realm = await setUpRealm(options.realm ?? { realm: "corp" });
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url,
    port,
    pid: child.pid as number,
    startMs,
    realm,
    consoleAdmin,
    setUpRealm,
    output: () => log,
    stop,
  };
}

/** Creates the realm, its admin client (service account with manage-realm and view-realm) and a user. */
/** The errors and warnings in Keycloak's recent output (a failed test prints them: Keycloak's replies say little). */
export function keycloakErrors(keycloak: Pick<SandboxKeycloak, "output">): string {
  return keycloak
    .output()
    .split("\n")
    .filter((line) => /\b(ERROR|WARN)\b|^Caused by/.test(line))
    .join("\n");
}

async function setUpSandboxRealm(
  admin: KeycloakAdminClient,
  options: RealmSetupOptions,
): Promise<SandboxRealm> {
  const { realm } = options;
  const clientId = options.clientId ?? "mailserver-admin";
  const adminEmail = options.adminEmail === undefined ? `${clientId}@sandbox.test` : options.adminEmail;
  const user = options.user ?? { username: "alice", email: "alice@sandbox.test" };
  await admin.realms.create({ realm, enabled: true });
  const { id } = await admin.clients.create({
    realm,
    clientId,
    publicClient: false,
    serviceAccountsEnabled: true,
    standardFlowEnabled: false,
    directAccessGrantsEnabled: false,
    clientAuthenticatorType: "client-secret",
  });
  const secret = await admin.clients.getClientSecret({ realm, id });
  const serviceAccount = await admin.clients.getServiceAccountUser({ realm, id });
  const serviceAccountUserId = serviceAccount.id as string;
  if (adminEmail) {
    await admin.users.update(
      { realm, id: serviceAccountUserId },
      { ...serviceAccount, email: adminEmail, emailVerified: true },
    );
  }
  const [management] = await admin.clients.find({ realm, clientId: "realm-management" });
  const managementId = management?.id as string;
  const roles = await Promise.all(
    ["manage-realm", "view-realm"].map((roleName) =>
      admin.clients.findRole({ realm, id: managementId, roleName }),
    ),
  );
  await admin.users.addClientRoleMappings({
    realm,
    id: serviceAccountUserId,
    clientUniqueId: managementId,
    roles: roles.map((role) => ({ id: role?.id as string, name: role?.name as string })),
  });
  await admin.users.create({
    realm,
    username: user.username,
    email: user.email,
    emailVerified: true,
    enabled: true,
    firstName: "Alice",
    lastName: "Sandbox",
  });
  return { realm, clientId, clientSecret: secret.value as string, serviceAccountUserId, adminEmail, user };
}

/**
 * A Keycloak home of this server's own: Keycloak writes into `<home>/data` (the truststore it
 * builds from --truststore-paths, transaction logs), which servers running at once must not share.
 * kc.sh finds the home from its own path, so it is copied; the built distribution is linked.
 */
async function instanceHomeOf(home: string, dataDir: string): Promise<string> {
  const instance = join(dataDir, "home");
  await mkdir(join(instance, "bin"), { recursive: true });
  await copyFile(join(home, "bin", "kc.sh"), join(instance, "bin", "kc.sh"));
  await chmod(join(instance, "bin", "kc.sh"), 0o755);
  for (const entry of ["lib", "conf", "providers", "themes", "version.txt"]) {
    await symlink(join(home, entry), join(instance, entry));
  }
  return instance;
}

async function waitUntilReady(
  url: string,
  exited: Promise<number | null>,
  timeoutMs: number,
  log: () => string,
): Promise<void> {
  let exitCode: number | null | undefined;
  void exited.then((code) => {
    exitCode = code;
  });
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (exitCode !== undefined) {
      throw new Error(`Keycloak exited with code ${exitCode} before it was ready:\n${log().slice(-4000)}`);
    }
    try {
      const response = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(2_000) });
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`Keycloak was not ready within ${timeoutMs} ms:\n${log().slice(-4000)}`);
}

async function stopProcessGroup(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const signal = (name: NodeJS.Signals) => {
    try {
      // The group of the process this helper started (kc.sh and its java), by its id.
      process.kill(-(child.pid as number), name);
    } catch {
      // Already gone.
    }
  };
  signal("SIGTERM");
  const timer = setTimeout(() => signal("SIGKILL"), 20_000);
  await exited;
  clearTimeout(timer);
}

/** A free TCP port on 127.0.0.1 (taken by the OS, then released for Keycloak to bind). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}
