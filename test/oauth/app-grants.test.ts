// The app-only grants against the sandbox OP: the client credentials grant with a secret and with
// a client assertion (private_key_jwt, x5t thumbprint), and a service account's JWT bearer grant;
// then XOAUTH2 with the app token at the sandbox SMTP server, which accepts it only for a mailbox
// the app is granted. Keys come from the OP's throwaway key pair; bad keys are made here.
import { generateKeyPairSync } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { decodeJwt, decodeProtectedHeader } from "jose";
import forge from "node-forge";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { resolveSmtpCredentials } from "../../provider/credentials.js";
import {
  type NormalizedCustomDeclaration,
  type NormalizedOAuthAuth,
  normalizeDeclaration,
} from "../../provider/declaration/normalize.js";
import { secretResolver } from "../../provider/declaration/secrets.js";
import { MailServerError } from "../../provider/errors.js";
import { obtainAppToken } from "../../provider/oauth/app-token.js";
import { clientCredentialsGrant } from "../../provider/oauth/client-credentials.js";
import { jwtBearerGrant } from "../../provider/oauth/jwt-bearer.js";
import { parseServiceAccountKey } from "../../provider/oauth/service-account-key.js";
import {
  SANDBOX_APP_FILES,
  type SandboxAppCredential,
  sandboxAppAuth,
  writeSandboxAppFiles,
} from "../../sandbox/app-auth.js";
import { createThrowawayCA } from "../../sandbox/ca.js";
import {
  accessTokenVerifier,
  introspectAccessToken,
  type SandboxOP,
  startSandboxOP,
} from "../../sandbox/op.js";
import { SANDBOX_APP_MAILBOX } from "../../sandbox/op-apps.js";
import { runCli } from "../helpers/cli.js";
import { type SmtpFixture, startSmtpFixture } from "../helpers/smtp-sandbox.js";

let op: SandboxOP;
let fx: SmtpFixture;
beforeAll(async () => {
  op = await startSandboxOP();
  fx = await startSmtpFixture({ verifyAccessToken: accessTokenVerifier(op) });
  await writeSandboxAppFiles(op, fx.dir);
});
afterAll(async () => {
  await fx.stop();
  await op.stop();
});
beforeEach(() => {
  fx.smtp.reset();
  op.resetFaults();
  for (const client of Object.keys(op.apps.mailboxes)) op.apps.mailboxes[client] = [SANDBOX_APP_MAILBOX];
});

const CREDENTIALS: Record<string, SandboxAppCredential> = {
  "client credentials with a secret": {
    kind: "client-secret",
    clientSecret: { file: SANDBOX_APP_FILES.clientSecret },
  },
  "client credentials with a client assertion": {
    kind: "client-assertion",
    privateKeyFile: SANDBOX_APP_FILES.privateKey,
    certificateFile: SANDBOX_APP_FILES.certificate,
  },
  "a service account's JWT bearer grant": {
    kind: "service-account",
    serviceAccountKey: { file: SANDBOX_APP_FILES.serviceAccountKey },
  },
};

function appDeclaration(credential: SandboxAppCredential, name = "app-mail"): NormalizedCustomDeclaration {
  return normalizeDeclaration(
    fx.declaration({ name, auth: sandboxAppAuth(op, credential), from: { name: "App" } }),
  ) as NormalizedCustomDeclaration;
}

function appAuth(credential: SandboxAppCredential): NormalizedOAuthAuth {
  return appDeclaration(credential).auth as NormalizedOAuthAuth;
}

async function refusal(promise: Promise<unknown>): Promise<MailServerError> {
  const error = await promise.then(
    () => undefined,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(MailServerError);
  return error as MailServerError;
}

describe("app tokens from the sandbox OP", () => {
  for (const [what, credential] of Object.entries(CREDENTIALS)) {
    it(`${what}: a token for the app, which the SMTP server accepts for the granted mailbox`, async () => {
      const auth = appAuth(credential);
      const token = await obtainAppToken(auth, {
        baseDir: fx.dir,
        secret: secretResolver({ baseDir: fx.dir }),
      });
      expect(token.scope).toEqual([op.apps.scope]);
      expect(token.tokenEndpoint).toBe(`${op.issuer}/token`);
      const introspected = await introspectAccessToken(op, token.accessToken);
      expect(introspected.active).toBe(true);
      if (credential.kind === "service-account") {
        // Domain-wide delegation: the token acts for the mailbox (sub).
        expect(introspected.sub).toBe(SANDBOX_APP_MAILBOX);
        expect(token.client).toBe(op.apps.serviceAccount.clientEmail);
      } else {
        // Client credentials: the app's own token, no subject.
        expect(introspected.sub).toBeUndefined();
        expect(introspected.clientId).toBe(auth.clientId);
      }
      const file = await fx.writeDeclaration(`app-${credential.kind}`, {
        auth: sandboxAppAuth(op, credential),
        from: { name: "App" },
      });
      const run = await runCli(["verify", file, "--format", "json"], { env: {} });
      expect(run.stderr).toBe("");
      expect(JSON.parse(run.stdout)).toMatchObject({ ok: true, authenticatedAs: SANDBOX_APP_MAILBOX });
      expect(fx.smtp.authAttempts).toEqual([
        expect.objectContaining({ method: "XOAUTH2", username: SANDBOX_APP_MAILBOX, accepted: true }),
      ]);
      // Nothing is stored: no grant file was written next to the declaration's key files.
      expect(run.stdout).not.toContain(token.accessToken);
    });
  }

  it("the client assertion: x5t is the certificate's SHA-1 thumbprint (computed here with node-forge), aud the token endpoint", async () => {
    const sent: URLSearchParams[] = [];
    const recording: typeof fetch = async (input, init) => {
      if (String(input).endsWith("/token") && init?.body)
        sent.push(new URLSearchParams(init.body as URLSearchParams | string));
      return fetch(input, init);
    };
    const auth = appAuth(CREDENTIALS["client credentials with a client assertion"] as SandboxAppCredential);
    await obtainAppToken(auth, {
      baseDir: fx.dir,
      secret: secretResolver({ baseDir: fx.dir }),
      fetch: recording,
    });
    const [body] = sent;
    expect(body?.get("client_assertion_type")).toBe("urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
    const assertion = body?.get("client_assertion") as string;
    const der = forge.asn1
      .toDer(forge.pki.certificateToAsn1(forge.pki.certificateFromPem(op.apps.certificate.certificatePem)))
      .getBytes();
    const sha1 = forge.md.sha1.create().update(der).digest().getBytes();
    expect(decodeProtectedHeader(assertion)).toMatchObject({
      alg: "RS256",
      x5t: Buffer.from(sha1, "binary").toString("base64url"),
    });
    expect(decodeJwt(assertion)).toMatchObject({
      iss: op.apps.certificate.clientId,
      sub: op.apps.certificate.clientId,
      aud: `${op.issuer}/token`,
    });
  });

  it("the client assertion carries the certificate's thumbprint (x5t): without the certificate the OP refuses it", async () => {
    const auth = appAuth({ kind: "client-assertion", privateKeyFile: SANDBOX_APP_FILES.privateKey });
    const error = await refusal(
      obtainAppToken(auth, { baseDir: fx.dir, secret: secretResolver({ baseDir: fx.dir }) }),
    );
    expect(error.code).toBe("app-token-refused");
    expect(error.details).toMatchObject({ error: "invalid_client" });
  });

  it("a refused client secret is app-token-refused with the remedy for the secret, and never echoes it", async () => {
    const wrong = "not-the-secret-5f1c";
    const error = await refusal(
      clientCredentialsGrant(
        appAuth(CREDENTIALS["client credentials with a secret"] as SandboxAppCredential),
        { clientSecret: wrong },
      ),
    );
    expect(error.code).toBe("app-token-refused");
    expect(error.message).toMatch(/^the client credentials grant failed with invalid_client/);
    expect(error.remedy).toMatch(/auth\.clientSecret/);
    expect(`${error.message} ${error.remedy}`).not.toContain(wrong);
  });

  it("an expired assertion (a clock two hours behind) is refused with the clock in the remedy", async () => {
    const auth = appAuth(CREDENTIALS["a service account's JWT bearer grant"] as SandboxAppCredential);
    const key = await parseServiceAccountKey(op.apps.serviceAccount.keyJson, "auth.serviceAccountKey");
    const error = await refusal(
      jwtBearerGrant(auth, { key, now: () => new Date(Date.now() - 2 * 3600_000) }),
    );
    expect(error.code).toBe("app-token-refused");
    expect(error.message).toContain("invalid_grant: Invalid JWT: Token must be a short-lived token");
    expect(error.remedy).toMatch(/clock/);
  });

  it("a scope the service account was not delegated: unauthorized_client with the domain-wide delegation remedy", async () => {
    const auth = {
      ...appAuth(CREDENTIALS["a service account's JWT bearer grant"] as SandboxAppCredential),
      scopes: ["openid"],
    };
    const key = await parseServiceAccountKey(op.apps.serviceAccount.keyJson, "auth.serviceAccountKey");
    const error = await refusal(jwtBearerGrant(auth, { key }));
    expect(error.code).toBe("app-token-refused");
    expect(error.details).toMatchObject({ error: "unauthorized_client" });
    expect(error.remedy).toMatch(/Domain-wide delegation/);
  });
});

describe("token endpoint failures that are the issuer's, not the app's", () => {
  it("a 502 page during the client credentials grant is issuer-error, not a refused app", async () => {
    op.faults.tokenReply = { status: 502, html: "<html><title>502 Bad Gateway</title></html>" };
    const error = await refusal(
      clientCredentialsGrant(
        appAuth(CREDENTIALS["client credentials with a secret"] as SandboxAppCredential),
        {
          clientSecret: op.apps.secret.clientSecret,
        },
      ),
    );
    expect(error.code).toBe("issuer-error");
    expect(error.message).toContain('answered HTTP 502, text/html instead of JSON: "502 Bad Gateway"');
  });

  it("temporarily_unavailable during the JWT bearer grant stays issuer-error", async () => {
    op.faults.tokenReply = { status: 503, json: { error: "temporarily_unavailable" } };
    const key = await parseServiceAccountKey(op.apps.serviceAccount.keyJson, "auth.serviceAccountKey");
    const auth = appAuth(CREDENTIALS["a service account's JWT bearer grant"] as SandboxAppCredential);
    const error = await refusal(jwtBearerGrant(auth, { key }));
    expect(error.code).toBe("issuer-error");
  });
});

describe("a mailbox the app may not send as", () => {
  it("client credentials: the token is issued, the SMTP server answers 535 5.7.3 for the mailbox", async () => {
    op.apps.mailboxes[op.apps.secret.clientId] = ["someone-else@sandbox.test"];
    const decl = appDeclaration(CREDENTIALS["client credentials with a secret"] as SandboxAppCredential);
    const file = await fx.writeDeclaration("app-no-permission", {
      auth: sandboxAppAuth(op, CREDENTIALS["client credentials with a secret"] as SandboxAppCredential),
    });
    const run = await runCli(["verify", file, "--format", "json"], { env: {} });
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout);
    expect(report.error).toMatchObject({ code: "auth-rejected", smtpCode: 535 });
    expect(report.error.message).toContain("5.7.3 Authentication unsuccessful");
    expect(fx.smtp.authAttempts).toEqual([
      expect.objectContaining({
        method: "XOAUTH2",
        username: decl.auth.method === "oauth" && decl.auth.username,
        accepted: false,
      }),
    ]);
  });

  it("service account: the OP refuses to issue a token for a mailbox outside the delegation", async () => {
    op.apps.mailboxes[op.apps.serviceAccount.clientEmail] = ["someone-else@sandbox.test"];
    const decl = appDeclaration(CREDENTIALS["a service account's JWT bearer grant"] as SandboxAppCredential);
    const error = await refusal(resolveSmtpCredentials(decl, { baseDir: fx.dir }));
    expect(error.code).toBe("app-token-refused");
    expect(error.message).toContain("Invalid email or User ID");
    expect(error.remedy).toMatch(/auth\.username/);
  });
});

describe("bad keys", () => {
  const privateKeyPem = () => op.apps.certificate.privateKeyPem;
  const keyBody = () => privateKeyPem().split("\n")[1] as string;

  it.each([
    ["not JSON (a PEM key where the JSON key belongs)", () => privateKeyPem(), /is not JSON/],
    ["a JSON array", () => "[1, 2]", /is not a JSON object/],
    [
      "JSON without private_key",
      () => JSON.stringify({ ...JSON.parse(op.apps.serviceAccount.keyJson), private_key: undefined }),
      /lacks private_key$/,
    ],
    [
      "JSON whose private_key is not a key",
      () => JSON.stringify({ ...JSON.parse(op.apps.serviceAccount.keyJson), private_key: "MIIE-not-a-key" }),
      /private_key is not a PEM private key$/,
    ],
  ])(
    "a service account key that is %s: service-account-key-invalid, and the key is never echoed",
    async (_what, content, message) => {
      await writeFile(join(fx.dir, "bad-key.json"), content());
      const decl = appDeclaration({ kind: "service-account", serviceAccountKey: { file: "bad-key.json" } });
      const error = await refusal(resolveSmtpCredentials(decl, { baseDir: fx.dir }));
      expect(error.code).toBe("service-account-key-invalid");
      expect(error.message).toMatch(/^auth\.serviceAccountKey \(file:bad-key\.json\) /);
      expect(error.message).toMatch(message);
      expect(error.describe()).not.toContain(keyBody());
      expect(error.describe()).not.toContain("MIIE");
      // The same through the CLI: a coded error on stderr, no stack trace, no key.
      const file = await fx.writeDeclaration("bad-key", {
        auth: sandboxAppAuth(op, { kind: "service-account", serviceAccountKey: { file: "bad-key.json" } }),
      });
      const run = await runCli(["verify", file], { env: {} });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain("(service-account-key-invalid)");
      expect(run.stderr).not.toContain(keyBody());
      expect(run.stderr).not.toMatch(/\n\s+at /);
    },
  );

  it("a certificate that is not the private key's: client-key-invalid before any request", async () => {
    const other = createThrowawayCA().issue({ selfSigned: true, commonName: "another-app" });
    await writeFile(join(fx.dir, "other-cert.pem"), other.certPem);
    const before = op.tokenRequests().length;
    const decl = appDeclaration({
      kind: "client-assertion",
      privateKeyFile: SANDBOX_APP_FILES.privateKey,
      certificateFile: "other-cert.pem",
    });
    const error = await refusal(resolveSmtpCredentials(decl, { baseDir: fx.dir }));
    expect(error.code).toBe("client-key-invalid");
    expect(error.message).toMatch(
      /^auth\.clientAssertion\.certificate \(CN=another-app.*\) is not the certificate of auth\.clientAssertion\.privateKey$/,
    );
    expect(op.tokenRequests().length).toBe(before);
  });

  it("a private key file that is not a key: client-key-invalid, not echoed", async () => {
    await writeFile(
      join(fx.dir, "not-a-key.pem"),
      "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWJ1dC1icm9rZW4=\n-----END PRIVATE KEY-----\n",
    );
    const decl = appDeclaration({ kind: "client-assertion", privateKeyFile: "not-a-key.pem" });
    const error = await refusal(resolveSmtpCredentials(decl, { baseDir: fx.dir }));
    expect(error.code).toBe("client-key-invalid");
    expect(error.message).toBe("auth.clientAssertion.privateKey is not a PEM private key");
    expect(error.describe()).not.toContain("c2VjcmV0");
  });

  it("an Ed25519 key: client-key-invalid naming the supported key types", async () => {
    const { privateKey } = generateKeyPairSync("ed25519");
    await writeFile(
      join(fx.dir, "ed25519.pem"),
      privateKey.export({ format: "pem", type: "pkcs8" }) as string,
    );
    const decl = appDeclaration({ kind: "client-assertion", privateKeyFile: "ed25519.pem" });
    const error = await refusal(resolveSmtpCredentials(decl, { baseDir: fx.dir }));
    expect(error.code).toBe("client-key-invalid");
    expect(error.message).toMatch(/is a ed25519 key: RSA or EC/);
  });
});
