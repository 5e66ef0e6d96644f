/**
 * What the token endpoint really answered, read on the wire before openid-client judges it.
 * - A refresh token in any answer is handed to the caller first: the issuer may already have
 *   retired the old one (rotation), so it must be saved whatever is wrong with the rest.
 * - A failure is named by what the issuer said: its OAuth error whatever the HTTP status
 *   (RFC 6749 §5.2), a server error or a page that is not JSON (`issuer-error`, transient), or an
 *   answer that breaks §5.1 (`issuer-nonconformant`: the issuer's defect, not the user's).
 * Tokens are never quoted: only field names, error codes and the issuer's descriptions.
 */
import * as oidc from "openid-client";
import { MailServerError } from "../errors.js";
import { type OAuthErrorContext, oauthFailure, remedyFor, toMailServerError } from "./remedies.js";

/** One token-endpoint answer as it came over the wire. */
export interface WireResponse {
  status: number;
  /** The media type without parameters (`application/json`, `text/html`). */
  contentType: string;
  /** The body when it is a JSON object. */
  json?: Record<string, unknown>;
  /** The body when it is not JSON (an HTML page, plain text), for quoting. */
  text?: string;
}

export interface TokenEndpointWatch {
  /** The last answer of the token endpoint, if one arrived. */
  last(): WireResponse | undefined;
  /**
   * The MailServerError for a failed token request: the save failure if saving a refresh token
   * failed, else the issuer's OAuth error, `issuer-error`, `issuer-nonconformant`, or what
   * openid-client reported.
   * @param step what was being done, for the message ("the refresh-token grant")
   */
  failure(error: unknown, step: string, context?: OAuthErrorContext): unknown;
}

export interface WatchOptions {
  /** Called with every refresh token an answer carries, before the answer is judged; awaited. */
  onRefreshToken?: (refreshToken: string) => Promise<void>;
}

/**
 * Wraps the configuration's fetch seam so that token-endpoint answers are read first.
 * @example
 * const wire = watchTokenEndpoint(config, { onRefreshToken: save });
 * try { await oidc.refreshTokenGrant(config, token); } catch (error) { throw wire.failure(error, "the refresh-token grant"); }
 * @see RFC 6749 section 5.1 (successful response), 5.2 (error response), 6 (refreshing)
 */
export function watchTokenEndpoint(
  config: oidc.Configuration,
  options: WatchOptions = {},
): TokenEndpointWatch {
  const tokenEndpoint = config.serverMetadata().token_endpoint;
  const inner = config[oidc.customFetch];
  let last: WireResponse | undefined;
  let saveError: { error: unknown } | undefined;
  config[oidc.customFetch] = async (url, init) => {
    const response = inner ? await inner(url, init) : await fetch(url, init as RequestInit);
    if (url !== tokenEndpoint) return response;
    last = await readWire(response.clone());
    const refreshToken = last.json?.refresh_token;
    if (typeof refreshToken === "string" && refreshToken.length > 0 && options.onRefreshToken) {
      try {
        await options.onRefreshToken(refreshToken);
      } catch (error) {
        saveError = { error };
        throw error;
      }
    }
    if (typeof last.json?.error === "string" && response.status >= 200 && response.status < 300) {
      // An error object sent with HTTP 2xx (some issuers do, against RFC 6749 §5.2 and RFC 8628
      // §3.5): handed on with 400, so that it is that error everywhere - a device flow keeps
      // polling on authorization_pending, invalid_grant is a dead grant. failure() still says
      // which status the issuer really sent.
      return new Response(await response.text(), { status: 400, headers: response.headers });
    }
    return response;
  };
  return {
    last: () => last,
    failure(error, step, context = {}) {
      if (saveError) return saveError.error;
      return tokenFailure(error, last, step, tokenEndpoint, context);
    },
  };
}

async function readWire(response: Response): Promise<WireResponse> {
  const contentType = (response.headers.get("content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  const text = await response.text().catch(() => "");
  let json: Record<string, unknown> | undefined;
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed))
      json = parsed as Record<string, unknown>;
  } catch {
    // Not JSON: an HTML error page or plain text, quoted below.
  }
  return { status: response.status, contentType, ...(json ? { json } : { text }) };
}

/** Names a failed token request by what the issuer answered (see the module comment). */
export function tokenFailure(
  error: unknown,
  wire: WireResponse | undefined,
  step: string,
  tokenEndpoint?: string,
  context: OAuthErrorContext = {},
): MailServerError {
  if (error instanceof MailServerError || !wire) return toMailServerError(error, step, context);
  const where = tokenEndpoint ? new URL(tokenEndpoint).origin : "the issuer";
  const { json, status } = wire;
  const serverFault =
    status >= 500 && !(typeof json?.error === "string" && remedyFor({ error: json.error }, context));
  if (json && typeof json.error === "string" && !serverFault) {
    const failure = oauthFailure(
      {
        error: json.error,
        ...(typeof json.error_description === "string" && { error_description: json.error_description }),
      },
      step,
      undefined,
      context,
    );
    if (status >= 200 && status < 300) {
      // Still that error (the issuer meant it), but say that the status was wrong.
      return new MailServerError(
        failure.code,
        `${failure.message} (sent with HTTP ${status}, where RFC 6749 §5.2 requires 400 or 401)`,
        { remedy: failure.remedy, details: { ...failure.details, httpStatus: status } },
      );
    }
    return failure;
  }
  if (serverFault || !json) {
    const what = json ? "" : `, ${wire.contentType || "no content type"} instead of JSON`;
    const quote = json ? quoteJson(json) : quoteText(wire.text ?? "");
    return new MailServerError(
      "issuer-error",
      `${step}: ${where} answered HTTP ${status}${what}${quote ? `: ${quote}` : ""}`,
      { details: { httpStatus: status } },
    );
  }
  const fields = Object.keys(json).sort().join(", ") || "no fields";
  if (status < 200 || status >= 300) {
    return new MailServerError(
      "issuer-nonconformant",
      `${step}: ${where} answered HTTP ${status} without an OAuth error (RFC 6749 §5.2 requires "error"); it has ${fields}`,
      { details: { httpStatus: status } },
    );
  }
  // A 2xx JSON answer: the issuer's defect only when openid-client found a field broken; anything
  // else (an ID token that fails its checks) is judged as before.
  const broken = brokenField(error);
  if (!broken) return toMailServerError(error, step, context);
  return new MailServerError(
    "issuer-nonconformant",
    `${step}: ${where}'s token response breaks RFC 6749 §5.1: ${broken} (it has ${fields})`,
    { details: { httpStatus: status } },
  );
}

/** openid-client's complaint about a field (`"response" body "token_type" property must be a string`), reworded. */
function brokenField(error: unknown): string | undefined {
  for (let current = error, depth = 0; current && depth < 4; depth++) {
    const message = (current as Error).message ?? "";
    const field = /"response" body "(\w+)" property/.exec(message)?.[1];
    if (field) return `"${field}" is missing or not ${/number/.test(message) ? "a number" : "a string"}`;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** A short, safe quote of a JSON body without any token: its error fields, else its field names. */
function quoteJson(json: Record<string, unknown>): string {
  const message = [json.error_description, json.message, json.detail, json.error].find(
    (value) => typeof value === "string",
  );
  return message ? `"${shorten(String(message))}"` : "";
}

/** The title of an HTML page, else its first words without markup. */
function quoteText(text: string): string {
  const title = /<title[^>]*>([^<]*)<\/title>/i.exec(text)?.[1];
  const words = (title ?? text.replace(/<[^>]*>/g, " ")).replace(/\s+/g, " ").trim();
  return words ? `"${shorten(words)}"` : "";
}

function shorten(text: string): string {
  return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}
