// Google and Microsoft, impersonated on loopback: the discovery documents have the vendors' shape and
// a rewriting fetch sends https://accounts.google.com and https://login.microsoftonline.com to a
// local fake (and refuses any other host), so openid-client runs its real vendor-specific code
// paths without a request ever leaving the machine.
import { describe, expect, it } from "vitest";
import type { MailServerDeclaration } from "../../provider/declaration/normalize.js";
import { type NormalizedOAuthAuth, normalizeDeclaration } from "../../provider/declaration/normalize.js";
import { authorize, discoverIssuer } from "../../provider/oauth/index.js";
import { fakeAuth, rejection } from "../helpers/op-auth.js";
import { type FakeIssuer, rewritingFetch, startFakeIssuer } from "../helpers/op-fake.js";

const MICROSOFT = "https://login.microsoftonline.com";
const GOOGLE = "https://accounts.google.com";
const TENANT_A = "11111111-1111-1111-1111-111111111111";
const TENANT_B = "22222222-2222-2222-2222-222222222222";

/** Microsoft's multi-tenant "common" issuer, whose tokens come from tenant `tid` with issuer `iss`. */
async function entra(idToken: { tid: string; issTenant?: string }) {
  const fake = await startFakeIssuer({
    issuerPath: "/common/v2.0",
    endpointOrigin: MICROSOFT,
    publishedIssuer: () => `${MICROSOFT}/{tenantid}/v2.0`,
    token: async (_request, self) => {
      const now = Math.floor(Date.now() / 1000);
      const token = await self.idToken({
        iss: `${MICROSOFT}/${idToken.issTenant ?? idToken.tid}/v2.0`,
        tid: idToken.tid,
        aud: "fake-client",
        sub: "u1",
        nonce: self.lastAuthorization()?.nonce,
        iat: now,
        exp: now + 600,
        preferred_username: "ops@contoso.com",
      });
      return { json: { access_token: "at", token_type: "Bearer", refresh_token: "rt", id_token: token } };
    },
  });
  return { fake, fetch: rewritingFetch({ [MICROSOFT]: fake.base }) };
}

function browserVia(fetchImpl: typeof fetch) {
  return async (url: string) => {
    const redirect = await fetchImpl(url, { redirect: "manual" });
    void fetch(redirect.headers.get("location") ?? "").catch(() => undefined);
  };
}

const entraAuth = (overrides: Partial<NormalizedOAuthAuth> = {}) =>
  fakeAuth(`${MICROSOFT}/common/v2.0`, {
    usernameClaims: ["email", "preferred_username", "upn"],
    ...overrides,
  });

async function withEntra(
  idToken: { tid: string; issTenant?: string },
  run: (f: { fake: FakeIssuer; fetch: typeof fetch }) => Promise<void>,
) {
  const setup = await entra(idToken);
  try {
    await run(setup);
  } finally {
    await setup.fake.stop();
  }
}

describe("Microsoft multi-tenant issuers ({tenantid})", () => {
  it("discovers the common issuer although it publishes a {tenantid} template", async () => {
    await withEntra({ tid: TENANT_A }, async ({ fetch }) => {
      const metadata = await discoverIssuer(`${MICROSOFT}/common/v2.0`, { fetch });
      expect(metadata.issuer).toBe(`${MICROSOFT}/{tenantid}/v2.0`);
      expect(metadata.tokenEndpoint).toBe(`${MICROSOFT}/token`);
    });
  });

  it("validates iss against the token's own tenant (tid)", async () => {
    await withEntra({ tid: TENANT_A }, async ({ fetch }) => {
      const grant = await authorize(entraAuth(), {
        prompt: () => undefined,
        fetch,
        openBrowser: browserVia(fetch),
      });
      expect(grant.issuer).toBe(`${MICROSOFT}/${TENANT_A}/v2.0`);
      expect(grant.username).toBe("ops@contoso.com");
    });
  });

  it("rejects an ID token whose iss is not its tid's issuer", async () => {
    await withEntra({ tid: TENANT_A, issTenant: TENANT_B }, async ({ fetch }) => {
      const error = await rejection(
        authorize(entraAuth(), { prompt: () => undefined, fetch, openBrowser: browserVia(fetch) }),
      );
      expect(error.code).toBe("id-token-invalid");
      expect(error.message).toContain('"iss"');
    });
  });

  it("with auth.tenantId, rejects tokens of any other tenant", async () => {
    await withEntra({ tid: TENANT_B }, async ({ fetch }) => {
      const error = await rejection(
        authorize(entraAuth({ tenantId: TENANT_A }), {
          prompt: () => undefined,
          fetch,
          openBrowser: browserVia(fetch),
        }),
      );
      expect(error.code).toBe("id-token-invalid");
    });
  });

  it("with auth.tenantId, accepts that tenant's tokens", async () => {
    await withEntra({ tid: TENANT_A }, async ({ fetch }) => {
      const grant = await authorize(entraAuth({ tenantId: TENANT_A }), {
        prompt: () => undefined,
        fetch,
        openBrowser: browserVia(fetch),
      });
      expect(grant.idTokenClaims.tid).toBe(TENANT_A);
    });
  });
});

/** The authorization URL authorize() shows for a preset declaration, built from a local discovery document. */
async function authorizationUrlFor(
  preset: "gmail" | "office365",
  origin: string,
  path: string,
): Promise<URL> {
  const fake = await startFakeIssuer({
    issuerPath: path,
    endpointOrigin: origin,
    ...(preset === "office365" && { publishedIssuer: () => `${origin}/{tenantid}/v2.0` }),
  });
  const declaration = {
    version: 1,
    name: preset,
    preset,
    auth: { method: "oauth", clientId: "client", username: "ops@contoso.com" },
    from: { address: "ops@contoso.com" },
  } as MailServerDeclaration;
  const normalized = normalizeDeclaration(declaration);
  if (normalized.server !== "custom" || normalized.auth.method !== "oauth") throw new Error("unexpected");
  const stop = new AbortController();
  let shown: URL | undefined;
  try {
    await authorize(normalized.auth, {
      fetch: rewritingFetch({ [origin]: fake.base }),
      flow: "loopback",
      noBrowser: true,
      signal: stop.signal,
      prompt: (prompt) => {
        if (prompt.kind === "loopback") shown = new URL(prompt.authorizationUrl);
        stop.abort(new Error("seen"));
      },
    }).catch((error: unknown) => {
      if (!shown) throw error;
    });
    return shown as URL;
  } finally {
    await fake.stop();
  }
}

describe("vendor authorization URLs", () => {
  it("Google: access_type=offline and prompt=consent, no offline_access scope", async () => {
    const url = await authorizationUrlFor("gmail", GOOGLE, "");
    expect(url.origin).toBe(GOOGLE);
    expect(url.searchParams.get("access_type")).toBe("offline");
    expect(url.searchParams.getAll("prompt")).toEqual(["consent"]);
    expect(url.searchParams.get("scope")?.split(" ")).toEqual([
      "https://mail.google.com/",
      "openid",
      "email",
    ]);
    expect(url.searchParams.get("code_challenge_method")).toBe("S256");
  });

  it("Microsoft: offline_access and SMTP.Send, a single prompt value, no Google parameters", async () => {
    const url = await authorizationUrlFor("office365", MICROSOFT, "/common/v2.0");
    expect(url.origin).toBe(MICROSOFT);
    expect(url.searchParams.get("scope")?.split(" ")).toEqual([
      "https://outlook.office365.com/SMTP.Send",
      "openid",
      "email",
      "offline_access",
    ]);
    const prompts = url.searchParams.getAll("prompt");
    expect(prompts).toHaveLength(1);
    expect(prompts[0]?.split(" ")).toHaveLength(1);
    expect(url.searchParams.has("access_type")).toBe(false);
  });
});
