import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { discoverIssuer, resolveEndpoints } from "../../provider/oauth/index.js";
import { type SandboxOP, startSandboxOP } from "../../sandbox/op.js";
import { DISCOVER_JSON_KEYS } from "../helpers/contracts.js";
import { rejection, sandboxAuth } from "../helpers/op-auth.js";
import { startFakeIssuer } from "../helpers/op-fake.js";

let op: SandboxOP;
beforeAll(async () => {
  op = await startSandboxOP();
});
afterAll(() => op.stop());

describe("discoverIssuer", () => {
  it("returns the sandbox's endpoints under the discover JSON keys", async () => {
    const metadata = await discoverIssuer(op.issuer);
    expect(Object.keys(metadata)).toEqual(DISCOVER_JSON_KEYS);
    expect(metadata).toMatchObject({
      issuer: op.issuer,
      authorizationEndpoint: `${op.url}/auth`,
      tokenEndpoint: `${op.url}/token`,
      deviceAuthorizationEndpoint: `${op.url}/device/auth`,
      revocationEndpoint: `${op.url}/token/revocation`,
      jwksUri: `${op.url}/jwks`,
    });
    expect(metadata.codeChallengeMethodsSupported).toEqual(["S256"]);
    expect(metadata.grantTypesSupported).toContain("urn:ietf:params:oauth:grant-type:device_code");
  });

  it("fetches the discovery document once per issuer per process", async () => {
    const fresh = await startSandboxOP();
    try {
      await discoverIssuer(fresh.issuer);
      await discoverIssuer(fresh.issuer);
      await resolveEndpoints(sandboxAuth(fresh));
      expect(fresh.requests.filter((r) => r.path.startsWith("/.well-known/"))).toHaveLength(1);
    } finally {
      await fresh.stop();
    }
  });

  it("falls back to RFC 8414 /.well-known/oauth-authorization-server", async () => {
    const server = await serve((path, base) =>
      path === "/.well-known/oauth-authorization-server"
        ? { json: { issuer: base, authorization_endpoint: `${base}/a`, token_endpoint: `${base}/t` } }
        : { status: 404, json: {} },
    );
    try {
      const metadata = await discoverIssuer(server.base);
      expect(metadata).toMatchObject({
        issuer: server.base,
        tokenEndpoint: `${server.base}/t`,
        jwksUri: null,
      });
      expect(metadata.deviceAuthorizationEndpoint).toBeNull();
    } finally {
      await server.stop();
    }
  });

  it("says the issuer is unreachable when nothing listens", async () => {
    const server = await serve(() => ({ json: {} }));
    await server.stop();
    const error = await rejection(discoverIssuer(server.base));
    expect(error.code).toBe("issuer-unreachable");
    expect(error.message).toBe(`cannot reach ${server.base}: ECONNREFUSED`);
  });

  it("gives up on a slow issuer after the timeout", async () => {
    const server = await serve(() => new Promise(() => undefined));
    try {
      const error = await rejection(discoverIssuer(server.base, { timeoutMs: 300 }));
      expect(error.code).toBe("issuer-timeout");
      expect(error.message).toBe(`${server.base} did not answer within 0.3 s`);
    } finally {
      await server.stop();
    }
  });

  it("rejects an issuer that answers with HTML", async () => {
    const server = await serve(() => ({ html: "<html><body>Welcome</body></html>" }));
    try {
      const error = await rejection(discoverIssuer(server.base));
      expect(error.code).toBe("issuer-not-json");
      expect(error.message).toBe(
        `the discovery document of ${server.base}/ is not a JSON object (content-type text/html)`,
      );
    } finally {
      await server.stop();
    }
  });

  it("rejects a discovery document that names another issuer", async () => {
    const fake = await startFakeIssuer({ publishedIssuer: () => "https://elsewhere.example" });
    try {
      const error = await rejection(discoverIssuer(fake.issuer));
      expect(error.code).toBe("issuer-mismatch");
      expect(error.message).toBe(
        `the discovery document fetched for "${fake.issuer}/" names the issuer "https://elsewhere.example"`,
      );
    } finally {
      await fake.stop();
    }
  });

  it("refuses plain http to a host that is not loopback, without a request", async () => {
    const error = await rejection(discoverIssuer("http://issuer.example.invalid"));
    expect(error.code).toBe("endpoint-insecure");
  });
});

describe("resolveEndpoints", () => {
  it("lets declared endpoints win over discovered ones", async () => {
    const metadata = await resolveEndpoints(
      sandboxAuth(op, {
        tokenEndpoint: "https://override.example/token",
        revocationEndpoint: "https://override.example/revoke",
      }),
    );
    expect(metadata.tokenEndpoint).toBe("https://override.example/token");
    expect(metadata.revocationEndpoint).toBe("https://override.example/revoke");
    expect(metadata.authorizationEndpoint).toBe(`${op.url}/auth`);
  });

  it("uses only declared endpoints without an issuer, and no network", async () => {
    const { issuer: _issuer, ...auth } = sandboxAuth(op);
    const metadata = await resolveEndpoints({
      ...auth,
      authorizationEndpoint: "https://manual.example/authorize",
      tokenEndpoint: "https://manual.example/token",
    });
    expect(metadata).toMatchObject({
      issuer: null,
      authorizationEndpoint: "https://manual.example/authorize",
      tokenEndpoint: "https://manual.example/token",
      deviceAuthorizationEndpoint: null,
      jwksUri: null,
    });
  });
});

type Reply = { status?: number; json?: unknown; html?: string };
async function serve(answer: (path: string, base: string) => Reply | Promise<Reply>) {
  const server: Server = createServer(async (req, res) => {
    const reply = await answer(new URL(req.url ?? "/", "http://x").pathname, base);
    res.writeHead(reply.status ?? 200, {
      "content-type": reply.html !== undefined ? "text/html" : "application/json",
    });
    res.end(reply.html ?? JSON.stringify(reply.json));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
