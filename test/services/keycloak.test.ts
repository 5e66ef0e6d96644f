/**
 * The Keycloak module and the lifecycle against a real Keycloak (the pinned distribution from
 * scripts/install-keycloak.sh, one server for this file) that sends through the sandbox SMTP
 * server over real TLS: it trusts the sandbox's throwaway CA through its truststore.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { NormalizedService } from "../../provider/declaration/normalize.js";
import { isMailServerError, type MailServerError } from "../../provider/errors.js";
import { applyMailServer } from "../../provider/lifecycle/apply.js";
import { deleteMailServer } from "../../provider/lifecycle/delete.js";
import { readMailServer } from "../../provider/lifecycle/read.js";
import { realSteps } from "../../provider/lifecycle/real-steps.js";
import type { MailServerState } from "../../provider/lifecycle/state.js";
import { connectService, type ServiceEmailSetting } from "../../provider/services/index.js";
import {
  keycloakErrors,
  keycloakUnavailable,
  type SandboxKeycloak,
  startSandboxKeycloak,
} from "../../sandbox/keycloak.js";
import { accessTokenVerifier, type SandboxOP, startSandboxOP } from "../../sandbox/op.js";
import { SANDBOX_APP_MAILBOX } from "../../sandbox/op-apps.js";
import { type SandboxSmtp, startSandboxSmtp } from "../../sandbox/smtp.js";
import { closedPort, realmSettings as readRealmSettings } from "../helpers/keycloak.js";

const unavailable = keycloakUnavailable();
if (unavailable) console.warn(`Keycloak tests skipped: ${unavailable}`);

let keycloak: SandboxKeycloak;
let smtp: SandboxSmtp;
let op: SandboxOP;
let folder: string;

beforeAll(async () => {
  if (unavailable) return;
  // The OP issues the app tokens of the client-credentials case; the SMTP server checks them.
  op = await startSandboxOP();
  smtp = await startSandboxSmtp({ verifyAccessToken: accessTokenVerifier(op) });
  keycloak = await startSandboxKeycloak({ trustPem: smtp.caPem });
  folder = mkdtempSync(join(tmpdir(), "mailserver-keycloak-"));
  writeFileSync(join(folder, "ca.pem"), smtp.caPem);
}, 300_000);

afterAll(async () => {
  await keycloak?.stop();
  await smtp?.stop();
  await op?.stop();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

beforeEach(() => smtp?.reset());

// Keycloak answers a failed send with "Failed to send email" only; its log says why.
afterEach((context) => {
  if (context.task.result?.state === "fail" && keycloak) console.log(keycloakErrors(keycloak));
});

const ADMIN_SECRET_ENV = "KC_ADMIN_SECRET";
const WRONG_SECRET = "not-the-admin-secret-7d2f";

function service(overrides: Partial<NormalizedService> = {}): NormalizedService {
  return {
    type: "keycloak",
    url: keycloak.url,
    realm: keycloak.realm.realm,
    adminRealm: keycloak.realm.realm,
    clientId: keycloak.realm.clientId,
    clientSecret: { env: ADMIN_SECRET_ENV },
    ...overrides,
  };
}

function setting(overrides: Partial<ServiceEmailSetting> = {}): ServiceEmailSetting {
  return {
    host: "127.0.0.1",
    port: smtp.tlsPort,
    protocol: "tls",
    auth: { method: "basic", username: smtp.account.username, password: smtp.account.password },
    from: { address: "no-reply@sandbox.test", name: "Corp Notifications" },
    replyTo: "support@sandbox.test",
    ...overrides,
  };
}

/** The realm's smtpServer map as the admin console sees it. */
const realmSettings = (realm?: string) => readRealmSettings(keycloak, realm);

async function failure(promise: Promise<unknown>): Promise<MailServerError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isMailServerError(error)) throw new Error(`expected a MailServerError, got ${String(error)}`);
  return error;
}

describe.skipIf(unavailable)("the Keycloak service module", () => {
  it("apply writes the realm's email settings, read returns them without secrets, clear empties them", async () => {
    const keycloakService = await connectService(service(), keycloak.realm.clientSecret);
    expect(keycloakService.label).toBe(`Keycloak realm corp at ${keycloak.url}`);
    await keycloakService.apply(setting());
    expect(await realmSettings()).toEqual({
      host: "127.0.0.1",
      port: String(smtp.tlsPort),
      ssl: "true",
      starttls: "false",
      auth: "true",
      user: smtp.account.username,
      password: "**********",
      from: "no-reply@sandbox.test",
      fromDisplayName: "Corp Notifications",
      replyTo: "support@sandbox.test",
    });
    const live = await keycloakService.read();
    expect(live).toEqual({
      configured: true,
      host: "127.0.0.1",
      port: smtp.tlsPort,
      protocol: "tls",
      auth: { method: "basic", username: smtp.account.username, passwordStored: true },
      from: { address: "no-reply@sandbox.test", name: "Corp Notifications" },
      replyTo: "support@sandbox.test",
    });
    expect(JSON.stringify(live)).not.toContain(smtp.account.password);
    await keycloakService.clear();
    expect(await keycloakService.read()).toEqual({ configured: false });
  });

  it("apply keeps the keys it does not manage (envelopeFrom set in the console)", async () => {
    const keycloakService = await connectService(service(), keycloak.realm.clientSecret);
    await keycloakService.apply(setting());
    const admin = await keycloak.consoleAdmin();
    await admin.realms.update(
      { realm: "corp" },
      { smtpServer: { ...(await realmSettings()), envelopeFrom: "bounces@sandbox.test" } },
    );
    await keycloakService.apply(
      setting({ protocol: "starttls", port: smtp.starttlsPort, replyTo: undefined }),
    );
    expect(await realmSettings()).toMatchObject({
      envelopeFrom: "bounces@sandbox.test",
      ssl: "false",
      starttls: "true",
      port: String(smtp.starttlsPort),
    });
    expect(await realmSettings()).not.toHaveProperty("replyTo");
  });

  it("test: Keycloak itself sends its test email through the sandbox SMTP server, to the admin account", async () => {
    const keycloakService = await connectService(service(), keycloak.realm.clientSecret);
    const report = await keycloakService.test(setting());
    expect(report).toEqual({ to: "mailserver-admin@sandbox.test" });
    const message = await smtp.waitForMessage({ timeoutMs: 20_000 });
    expect(message.envelope.to).toEqual(["mailserver-admin@sandbox.test"]);
    // The envelopeFrom set in the console (previous test) is kept, and Keycloak sends with it.
    expect(message.envelope.from).toBe("bounces@sandbox.test");
    expect(message.parsed.from?.text).toBe('"Corp Notifications" <no-reply@sandbox.test>');
    expect(message.port).toBe(smtp.tlsPort);
    expect(message.user).toBe(smtp.account.username);
    expect(message.parsed.subject).toContain("SMTP test message");
  });

  it("test without a setting sends with what the realm stores (its masked password included)", async () => {
    const keycloakService = await connectService(service(), keycloak.realm.clientSecret);
    await keycloakService.apply(setting());
    await keycloakService.test();
    expect((await smtp.waitForMessage({ timeoutMs: 20_000 })).user).toBe(smtp.account.username);
    // The stored password no longer works (changed on the SMTP server's side, or in the console).
    const admin = await keycloak.consoleAdmin();
    await admin.realms.update(
      { realm: "corp" },
      { smtpServer: { ...(await realmSettings()), password: "expired-password-41" } },
    );
    const error = await failure(keycloakService.test());
    expect(error.code).toBe("service-test-failed");
    expect(error.message).toContain("with its stored setting");
    expect(error.message).toContain('Keycloak says "Failed to send email"');
    expect(error.describe()).not.toContain("expired-password-41");
  });

  it("test: an admin account without an email is reported with the remedy", async () => {
    const realm = await keycloak.setUpRealm({ realm: "no-email", adminEmail: null });
    const keycloakService = await connectService(
      service({ realm: "no-email", adminRealm: "no-email" }),
      realm.clientSecret,
    );
    const error = await failure(keycloakService.test(setting()));
    expect(error.code).toBe("service-admin-email-missing");
    expect(error.remedy).toContain(
      "Set an email on the user service-account-mailserver-admin in realm no-email",
    );
    expect(smtp.messages).toHaveLength(0);
  });

  it("a wrong admin secret: service-auth-failed, the secret never shown", async () => {
    const error = await failure(connectService(service(), WRONG_SECRET));
    expect(error.code).toBe("service-auth-failed");
    expect(error.message).toBe(
      `Keycloak at ${keycloak.url} refused the admin client mailserver-admin of realm corp: unauthorized_client: Invalid client or Invalid client credentials (HTTP 401)`,
    );
    expect(error.describe()).not.toContain(WRONG_SECRET);
  });

  it("an unreachable service, an unknown realm, and a client without rights on the realm", async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const closed = await failure(connectService(service({ url }), "x"));
    expect(closed.code).toBe("service-unreachable");
    expect(closed.message).toBe(`Keycloak at ${url} could not be reached (ECONNREFUSED)`);

    const unknownAdminRealm = await failure(connectService(service({ adminRealm: "nowhere" }), "x"));
    expect(unknownAdminRealm.code).toBe("service-realm-not-found");
    expect(unknownAdminRealm.field).toBe("service.adminRealm");

    const other = await keycloak.setUpRealm({ realm: "other" });
    // The client of realm "other" has rights there only.
    const foreign = await connectService(service({ realm: "corp", adminRealm: "other" }), other.clientSecret);
    const forbidden = await failure(foreign.read());
    expect(forbidden.code).toBe("service-forbidden");
    expect(forbidden.message).toContain("may not read realm corp");
    expect(forbidden.remedy).toContain("manage-realm and view-realm of the client corp-realm");

    const gone = await connectService(service({ realm: "deleted-realm" }), keycloak.realm.clientSecret);
    const notFound = await failure(gone.read());
    expect(notFound.code).toMatch(/^service-(realm-not-found|forbidden)$/);
  });

  it("a write Keycloak refuses leaves the realm as it was, and says what it keeps", async () => {
    const keycloakService = await connectService(service(), keycloak.realm.clientSecret);
    await keycloakService.apply(setting());
    const before = await realmSettings();
    // Keycloak validates the From address on save (a real refusal, not a mock).
    const error = await failure(
      keycloakService.apply(setting({ host: "smtp.other.test", from: { address: "not an address" } })),
    );
    expect(error.code).toBe("service-write-failed");
    expect(error.message).toContain("Invalid sender address");
    expect(error.message).toContain(
      `the realm keeps 127.0.0.1:${smtp.tlsPort} SSL as ${smtp.account.username}, stored secret`,
    );
    expect(await realmSettings()).toEqual(before);
  });
});

describe.skipIf(unavailable)("the lifecycle with a Keycloak service", () => {
  const env = () => ({
    SMTP_PASSWORD: smtp.account.password,
    [ADMIN_SECRET_ENV]: keycloak.realm.clientSecret,
  });
  const inputs = (overrides: Record<string, unknown> = {}) => ({
    version: 1,
    name: "corp-mail",
    smtp: { host: "127.0.0.1", protocol: "tls", port: smtp.tlsPort, tls: { ca: { file: "ca.pem" } } },
    auth: { method: "basic", username: smtp.account.username, password: { env: "SMTP_PASSWORD" } },
    from: { name: "Corp", address: "no-reply@sandbox.test" },
    testEmail: { to: ["ops@sandbox.test"], onDeploy: true },
    service: {
      type: "keycloak",
      url: keycloak.url,
      realm: "corp",
      clientId: keycloak.realm.clientId,
      clientSecret: { env: ADMIN_SECRET_ENV },
    },
    baseDir: folder,
    ...overrides,
  });
  const log: string[] = [];
  const options = (extra: Record<string, string> = {}) => ({
    steps: realSteps(),
    env: { ...env(), ...extra },
    log: (line: string) => log.push(line),
  });
  let state: MailServerState;

  it("verify, then Keycloak sends its own test email with the new setting, then the realm is written", async () => {
    const admin = await keycloak.consoleAdmin();
    await admin.realms.update({ realm: "corp" }, { smtpServer: {} });
    state = await applyMailServer(inputs(), undefined, options());
    expect(await realmSettings()).toMatchObject({
      host: "127.0.0.1",
      port: String(smtp.tlsPort),
      ssl: "true",
      user: smtp.account.username,
      from: "no-reply@sandbox.test",
      fromDisplayName: "Corp",
    });
    // Keycloak's own test message arrived, sent to the admin account through the sandbox.
    const message = await smtp.waitForMessage({ timeoutMs: 20_000 });
    expect(message.envelope.to).toEqual(["mailserver-admin@sandbox.test"]);
    expect(smtp.authAttempts.map((attempt) => attempt.accepted)).toEqual([true, true]);
    expect(log).toEqual(
      expect.arrayContaining([
        `corp-mail: Keycloak realm corp at ${keycloak.url} sent its test email to mailserver-admin@sandbox.test`,
        `corp-mail: saved into Keycloak realm corp at ${keycloak.url}`,
      ]),
    );
    expect(state.serviceClientSecret).toBe(keycloak.realm.clientSecret);
    expect(log.join("\n")).not.toContain(keycloak.realm.clientSecret);
  });

  it("nothing is written when SMTP verification fails", async () => {
    const before = await realmSettings();
    const error = await applyMailServer(
      inputs({
        smtp: { host: "127.0.0.1", protocol: "tls", port: smtp.tlsPort, tls: { ca: { file: "ca.pem" } } },
        from: { address: "changed@sandbox.test" },
      }),
      state,
      options({ SMTP_PASSWORD: "wrong-smtp-password-9" }),
    ).catch((e: { failure?: unknown }) => e.failure);
    expect((error as MailServerError).code).toBe("auth-rejected");
    expect(await realmSettings()).toEqual(before);
  });

  it("a wrong admin secret gives a coded error, and nothing changes in the realm", async () => {
    const before = await realmSettings();
    const error = await applyMailServer(
      inputs({ from: { address: "changed@sandbox.test" } }),
      state,
      options({ [ADMIN_SECRET_ENV]: WRONG_SECRET }),
    ).catch((e: { failure?: unknown }) => e.failure);
    expect((error as MailServerError).code).toBe("service-auth-failed");
    expect((error as MailServerError).describe()).not.toContain(WRONG_SECRET);
    expect(await realmSettings()).toEqual(before);
  });

  it("a required Keycloak test email that fails leaves the realm untouched", async () => {
    const before = await realmSettings();
    const realm = await keycloak.setUpRealm({ realm: "no-email-2", adminEmail: null });
    const error = await applyMailServer(
      inputs({
        testEmail: { to: ["ops@sandbox.test"], required: true },
        service: { ...inputs().service, realm: "no-email-2" },
      }),
      undefined,
      options({ [ADMIN_SECRET_ENV]: realm.clientSecret }),
    ).catch((e: { failure?: unknown }) => e.failure);
    expect((error as MailServerError).code).toBe("service-admin-email-missing");
    expect(await realmSettings("no-email-2")).toEqual({});
    expect(await realmSettings()).toEqual(before);
  });

  it("read returns an edit made in the admin console as inputs, and as drift", async () => {
    const admin = await keycloak.consoleAdmin();
    await admin.realms.update(
      { realm: "corp" },
      { smtpServer: { ...(await realmSettings()), host: "localhost", fromDisplayName: "Edited" } },
    );
    const { props, inputs: refreshed } = await readMailServer(state, { log: () => {} });
    expect(refreshed).toMatchObject({
      smtp: { host: "localhost", port: smtp.tlsPort },
      from: { name: "Edited", address: "no-reply@sandbox.test" },
    });
    expect(props.drift).toEqual([
      expect.objectContaining({
        code: "service-mismatch",
        field: "smtp.host",
        message: expect.stringContaining('"127.0.0.1" in the declaration but "localhost"'),
      }),
      expect.objectContaining({ code: "service-mismatch", field: "from.name" }),
    ]);
    // Applying the declaration again writes the declared values back.
    state = await applyMailServer(inputs(), state, options());
    expect(await realmSettings()).toMatchObject({ host: "127.0.0.1", fromDisplayName: "Corp" });
  });

  it("OAuth client credentials are written as authType token: Keycloak gets its own app token and logs in with XOAUTH2", async () => {
    const app = op.apps.secret;
    const tokenUrl = `${op.issuer}/token`;
    const appState = await applyMailServer(
      inputs({
        auth: {
          method: "oauth",
          flow: "client-credentials",
          tokenEndpoint: tokenUrl,
          clientId: app.clientId,
          clientSecret: { env: "APP_CLIENT_SECRET" },
          scopes: [op.apps.scope],
          username: SANDBOX_APP_MAILBOX,
        },
        from: { name: "Corp", address: SANDBOX_APP_MAILBOX },
      }),
      undefined,
      options({ APP_CLIENT_SECRET: app.clientSecret }),
    );
    expect(await realmSettings()).toMatchObject({
      auth: "true",
      authType: "token",
      user: SANDBOX_APP_MAILBOX,
      authTokenUrl: tokenUrl,
      authTokenClientId: app.clientId,
      authTokenClientSecret: "**********",
      authTokenScope: op.apps.scope,
    });
    expect(await realmSettings()).not.toHaveProperty("password");
    // Keycloak's own test email: its token from the OP (client_secret_post), XOAUTH2 as the mailbox.
    const message = await smtp.waitForMessage({ timeoutMs: 20_000 });
    expect(message.user).toBe(SANDBOX_APP_MAILBOX);
    expect(message.envelope.to).toEqual(["mailserver-admin@sandbox.test"]);
    expect(smtp.authAttempts.map(({ method, accepted }) => [method, accepted])).toEqual([
      ["XOAUTH2", true],
      ["XOAUTH2", true],
    ]);
    const { props } = await readMailServer(appState, { log: () => {} });
    expect(props.drift).toBeUndefined();
    expect(JSON.stringify(await realmSettings())).not.toContain(app.clientSecret);
  });

  it("delete clears the realm's email settings", async () => {
    await deleteMailServer(state, { steps: realSteps(), log: (line) => log.push(line), env: {} });
    expect(await realmSettings()).toEqual({});
    expect(log).toContain(`corp-mail: cleared the email settings of Keycloak realm corp at ${keycloak.url}`);
  });

  it("the built-in server with a service clears the realm too", async () => {
    const keycloakService = await connectService(service(), keycloak.realm.clientSecret);
    await keycloakService.apply(setting());
    const { smtp: _s, auth: _a, from: _f, testEmail: _t, ...builtin } = inputs();
    await applyMailServer({ ...builtin, server: "builtin" }, undefined, options());
    expect(await realmSettings()).toEqual({});
  });
});
