import type { PresetName } from "../presets/index.js";

/** A vendor reply people actually get, and what to do about it. */
export interface KnownReply {
  vendor: PresetName;
  /** The reply code (`535`), or undefined when the enhanced code alone identifies it. */
  code?: number;
  /** The enhanced status code (RFC 3463) that identifies the reply: `5.7.139`. */
  enhanced: string;
  /** Extra text the reply must contain, when the enhanced code is shared (`SendAsDenied`). */
  contains?: string;
  /**
   * The code is a standard one (RFC 3463/4954) that any server may send: the vendor's remedy is
   * only given when the declaration is for that vendor.
   */
  standard?: boolean;
  /** What it means and what to do: shown in the message. */
  remedy: string;
}

/**
 * Vendor replies with a known cause, as data (one table-driven test per entry). The enhanced code
 * is what identifies a reply: servers reword the text but keep the code.
 * @see https://www.rfc-editor.org/rfc/rfc3463 enhanced status codes
 */
export const KNOWN_REPLIES: readonly KnownReply[] = [
  {
    vendor: "office365",
    code: 535,
    enhanced: "5.7.139",
    remedy:
      "SMTP AUTH is disabled for the tenant or for this mailbox (the mailbox setting wins). Enable it for the mailbox: " +
      "`Set-CASMailbox -Identity MAILBOX -SmtpClientAuthenticationDisabled $false` (Exchange Online PowerShell), " +
      "and check that Security Defaults do not block it.",
  },
  {
    vendor: "office365",
    code: 535,
    enhanced: "5.7.3",
    standard: true,
    remedy:
      "Microsoft refused the login: wrong username or password, or a Basic-auth login to a mailbox that may not use it. " +
      "Check auth.username (the full mailbox address) and the secret; prefer auth.method: oauth.",
  },
  {
    vendor: "office365",
    code: 554,
    enhanced: "5.2.252",
    contains: "SendAsDenied",
    remedy:
      "The mailbox may not send as the From address: set from.address to the mailbox's own address, or grant it " +
      "Send As: `Add-RecipientPermission -Identity FROM_ADDRESS -Trustee MAILBOX -AccessRights SendAs`.",
  },
  {
    vendor: "office365",
    enhanced: "5.7.57",
    remedy:
      "Microsoft did not see an authenticated session when the message was submitted: SMTP AUTH must succeed before " +
      "MAIL FROM. Run `mailserver verify FILE` and check that SMTP AUTH is enabled for the mailbox.",
  },
  {
    vendor: "gmail",
    code: 535,
    enhanced: "5.7.8",
    standard: true,
    remedy:
      "Google did not accept the username and password (or the access token). With Basic auth use an app password " +
      "(the account needs 2-Step Verification: https://myaccount.google.com/apppasswords); with OAuth, authorize " +
      "again with `mailserver authorize FILE` and check that the token's account is auth.username.",
  },
  {
    vendor: "gmail",
    code: 534,
    enhanced: "5.7.9",
    remedy:
      "Google requires an application-specific password for this account: create an app password " +
      "(https://myaccount.google.com/apppasswords) and reference it as auth.password, or switch to auth.method: oauth.",
  },
  {
    vendor: "gmail",
    code: 534,
    enhanced: "5.7.14",
    remedy:
      "Google wants an interactive sign-in before it allows this login: sign in to the account in a browser and " +
      "complete the challenge (https://accounts.google.com/DisplayUnlockCaptcha), or switch to auth.method: oauth.",
  },
];

/**
 * Finds the known reply a server's reply matches. With a known vendor only that vendor's replies
 * match (Gmail's 5.7.8 hint would mislead a Microsoft user); with an unknown vendor only the
 * replies whose code is the vendor's own (5.7.139, SendAsDenied...), not standard ones.
 */
export function knownReply(reply: string, vendor?: PresetName): KnownReply | undefined {
  const code = Number(/^\s*(\d{3})/.exec(reply)?.[1]);
  return KNOWN_REPLIES.find(
    (known) =>
      (vendor === undefined ? !known.standard : known.vendor === vendor) &&
      (known.code === undefined || known.code === code) &&
      new RegExp(`(^|[^\\d.])${known.enhanced.replace(/\./g, "\\.")}($|[^\\d.])`).test(reply) &&
      (known.contains === undefined || reply.includes(known.contains)),
  );
}
