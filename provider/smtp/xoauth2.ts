import type {
  SMTPConnectionCustomAuthContext,
  SMTPConnectionCustomAuthResponse,
} from "nodemailer/lib/smtp-connection";

/**
 * The name our XOAUTH2 handler is registered under. Not "XOAUTH2": nodemailer's login() treats
 * method XOAUTH2 without its own token generator as "pick any mechanism" and would send the access
 * token as a PLAIN password; a custom method name runs exactly our handler, which speaks XOAUTH2.
 */
export const XOAUTH2_HANDLER = "MAILSERVER-XOAUTH2";

/**
 * Longest `AUTH XOAUTH2 <initial response>` line sent in one piece. Some servers cap the AUTH
 * line (Dovecot's submission service answers `500 5.5.2 Line too long` above about 1 KB) and
 * Microsoft access tokens are long JWTs, so a longer initial response goes on its own line after
 * the server's empty `334` challenge, which every XOAUTH2 server accepts.
 */
const MAX_INLINE_XOAUTH2_LINE = 900;

/** The SASL XOAUTH2 initial client response: `user=U^Aauth=Bearer T^A^A`, base64. */
function xoauth2InitialResponse(username: string, accessToken: string): string {
  return Buffer.from(`user=${username}\x01auth=Bearer ${accessToken}\x01\x01`, "utf8").toString("base64");
}

/**
 * AUTH XOAUTH2 as a nodemailer custom authentication handler, instead of nodemailer's built-in
 * one, because the built-in one answers a rejected token by asking its token generator for a new
 * token (which a plain access token cannot give) and loses the server's reply; this one keeps
 * the server's final reply so that the failure can be classified, and sends long tokens on
 * their own line. The access token travels as the connection's `pass` credential.
 *
 * @see https://developers.google.com/workspace/gmail/imap/xoauth2-protocol
 * @see https://www.rfc-editor.org/rfc/rfc7628#section-3.2.3 the error challenge and its empty answer
 */
export async function authenticateXOAuth2(context: SMTPConnectionCustomAuthContext): Promise<void> {
  const { user, pass } = context.auth.credentials;
  const initial = xoauth2InitialResponse(user, pass);
  let reply =
    `AUTH XOAUTH2 ${initial}`.length <= MAX_INLINE_XOAUTH2_LINE
      ? await context.sendCommand(`AUTH XOAUTH2 ${initial}`)
      : await context.sendCommand("AUTH XOAUTH2");
  if (reply.command === "AUTH XOAUTH2") {
    if (statusOf(reply) !== 334) throw new Error("the server refused to start XOAUTH2");
    reply = await context.sendCommand(initial);
  }
  if (statusOf(reply) === 334) {
    // A rejected token: the 334 carries an error JSON and the final reply comes after an empty line.
    const challenge = xoauth2ErrorChallenge(reply.response.slice(4));
    await context.sendCommand("");
    throw Object.assign(new Error("the server rejected the access token"), {
      ...(challenge.status && { xoauth2Status: challenge.status }),
      ...(challenge.scope && { xoauth2Scope: challenge.scope }),
      ...(challenge.schemes && { xoauth2Schemes: challenge.schemes }),
    });
  }
  if (statusOf(reply) !== 235) throw new Error("the server rejected the access token");
}

/** The reply code, also for a bare `334` that nodemailer's reply parser leaves at 0. */
function statusOf(reply: SMTPConnectionCustomAuthResponse): number {
  return Number(/^(\d{3})/.exec(reply.response)?.[1] ?? 0);
}

/** The error JSON of a rejected XOAUTH2 challenge, as Google documents it. */
export interface XOAuth2ErrorChallenge {
  /** An HTTP-like status: `401` (the token is not valid), `400`, `403`... */
  status?: string;
  /** The scope the server needs (Gmail: `https://mail.google.com/`). */
  scope?: string;
  /** The authentication schemes it accepts (`bearer`). */
  schemes?: string;
}

/**
 * Decodes the base64 error JSON of a rejected XOAUTH2 challenge (`{"status","schemes","scope"}`);
 * fields that are missing or not strings are left out, and anything undecodable gives `{}`.
 * @see https://developers.google.com/workspace/gmail/imap/xoauth2-protocol#error_response_2
 */
export function xoauth2ErrorChallenge(challenge: string): XOAuth2ErrorChallenge {
  try {
    const parsed = JSON.parse(Buffer.from(challenge.trim(), "base64").toString("utf8")) as Record<
      string,
      unknown
    >;
    const text = (value: unknown) => (typeof value === "string" && value.length > 0 ? value : undefined);
    const status = text(parsed.status);
    const scope = text(parsed.scope);
    const schemes = text(parsed.schemes);
    return { ...(status && { status }), ...(scope && { scope }), ...(schemes && { schemes }) };
  } catch {
    return {};
  }
}
