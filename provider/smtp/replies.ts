import type { PresetName } from "../presets/index.js";

/** A vendor reply people actually get, and what to do about it. */
export interface KnownReply {
  vendor: PresetName;
  /** The reply code (`535`), or undefined when the enhanced code alone identifies it. */
  code?: number;
  /** The enhanced status code (RFC 3463) of the reply: `5.7.139`. */
  enhanced: string;
  /**
   * Text the reply must contain (case-insensitive) when the vendor sends one enhanced code for
   * several causes (Microsoft's 5.7.139). A row without it is the code's remedy for any other text.
   */
  contains?: string;
  /**
   * The code is a standard one (RFC 3463/4954) that any server may send: the vendor's remedy is
   * only given when the declaration is for that vendor.
   */
  standard?: boolean;
  /** Only after an app-only login (client credentials, service account), where it has another cause. */
  appOnly?: boolean;
  /** What the reply means, for the docs' table. */
  meaning: string;
  /** What to do: shown in the message. */
  remedy: string;
}

/** Exchange refused an app token for the mailbox: the app has no service principal or no rights on it. */
const APP_ONLY_EXCHANGE_REMEDY =
  "Exchange does not let the app send as this mailbox: register the app's service principal and grant it the mailbox " +
  "(Exchange Online PowerShell): `New-ServicePrincipal -AppId APP_ID -ObjectId ENTERPRISE_APP_OBJECT_ID`, then " +
  "`Add-MailboxPermission -Identity MAILBOX -User SERVICE_PRINCIPAL_ID -AccessRights FullAccess`; check that the app " +
  "has the SMTP.SendAsApp application permission with admin consent and that auth.username is that mailbox.";

/**
 * Exchange Online's replies. The first rows are for an app-only login (client credentials). 5.7.139 carries different texts for different causes, so its rows
 * match the text; the last 5.7.139 row is for a text not listed here.
 * @see https://learn.microsoft.com/exchange/clients-and-mobile-in-exchange-online/authenticated-client-smtp-submission
 */
export const OFFICE365_REPLIES: readonly KnownReply[] = [
  {
    vendor: "office365",
    code: 535,
    enhanced: "5.7.3",
    standard: true,
    appOnly: true,
    meaning: "after an app-only login: Exchange does not let the app use this mailbox",
    remedy: APP_ONLY_EXCHANGE_REMEDY,
  },
  {
    vendor: "office365",
    code: 535,
    enhanced: "5.7.139",
    contains: "did not meet the criteria to be authenticated successfully",
    appOnly: true,
    meaning:
      "after an app-only login: the app has no Exchange service principal or no permission on the mailbox",
    remedy: APP_ONLY_EXCHANGE_REMEDY,
  },
  {
    vendor: "office365",
    code: 535,
    enhanced: "5.7.139",
    contains: "basic authentication is disabled",
    meaning: "Basic authentication (a password) is turned off for SMTP in this tenant",
    remedy:
      "Microsoft no longer accepts a password for SMTP here: switch to auth.method: oauth (preset office365, " +
      "scope https://outlook.office365.com/SMTP.Send and offline_access), then run `mailserver authorize FILE --out FILE.json`.",
  },
  {
    vendor: "office365",
    code: 535,
    enhanced: "5.7.139",
    contains: "SmtpClientAuthentication is disabled",
    meaning: "SMTP AUTH is disabled for the tenant or for this mailbox",
    remedy:
      "SMTP AUTH is disabled for the tenant or for this mailbox (the mailbox setting wins). Enable it for the mailbox: " +
      "`Set-CASMailbox -Identity MAILBOX -SmtpClientAuthenticationDisabled $false` (Exchange Online PowerShell), " +
      "or for the tenant: `Set-TransportConfig -SmtpClientAuthenticationDisabled $false`.",
  },
  {
    vendor: "office365",
    code: 535,
    enhanced: "5.7.139",
    contains: "did not meet the criteria to be authenticated successfully",
    meaning: "a Conditional Access policy or the tenant's security defaults blocked the sign-in",
    remedy:
      "Entra ID refused this sign-in by policy: check the sign-in logs (Entra ID > Sign-in logs) for the Conditional " +
      "Access policy that applied, and have an administrator exclude this mailbox or allow the client; security " +
      "defaults block SMTP AUTH with a password entirely (use auth.method: oauth).",
  },
  {
    vendor: "office365",
    code: 535,
    enhanced: "5.7.139",
    contains: "security defaults policy",
    meaning: "the tenant's security defaults lock out SMTP AUTH with a password",
    remedy:
      "Security defaults block Basic authentication: switch to auth.method: oauth (preset office365) and run " +
      "`mailserver authorize FILE --out FILE.json`, or have an administrator replace security defaults with Conditional Access policies.",
  },
  {
    vendor: "office365",
    code: 535,
    enhanced: "5.7.139",
    meaning: "Microsoft refused the login for a reason this table does not know (read the reply's text)",
    remedy:
      "Read Microsoft's reason in the reply. The usual causes: SMTP AUTH disabled for the mailbox " +
      "(`Set-CASMailbox -Identity MAILBOX -SmtpClientAuthenticationDisabled $false`), Basic authentication disabled " +
      "(use auth.method: oauth), or a Conditional Access or security-defaults block (see Entra ID's sign-in logs).",
  },
  {
    vendor: "office365",
    code: 535,
    enhanced: "5.7.3",
    standard: true,
    meaning: "the login was refused: wrong credentials, or Basic auth not allowed for the mailbox",
    remedy:
      "Microsoft refused the login: wrong username or password, or a Basic-auth login to a mailbox that may not use it. " +
      "Check auth.username (the full mailbox address) and the secret; prefer auth.method: oauth.",
  },
  {
    vendor: "office365",
    code: 554,
    enhanced: "5.2.252",
    contains: "SendAsDenied",
    meaning: "the mailbox may not send as the From address",
    remedy:
      "The mailbox may not send as the From address: set from.address to the mailbox's own address, or grant it " +
      "Send As: `Add-RecipientPermission -Identity FROM_ADDRESS -Trustee MAILBOX -AccessRights SendAs`.",
  },
  {
    vendor: "office365",
    enhanced: "5.7.57",
    meaning: "the message was submitted without an authenticated session",
    remedy:
      "Microsoft did not see an authenticated session when the message was submitted: SMTP AUTH must succeed before " +
      "MAIL FROM. Run `mailserver verify FILE` and check that SMTP AUTH is enabled for the mailbox.",
  },
];

/** Gmail's replies. @see https://support.google.com/a/answer/3726730 */
export const GMAIL_REPLIES: readonly KnownReply[] = [
  {
    vendor: "gmail",
    code: 535,
    enhanced: "5.7.8",
    standard: true,
    meaning: "the username and password (or the access token) were not accepted",
    remedy:
      "Google did not accept the username and password (or the access token). With Basic auth use an app password " +
      "(the account needs 2-Step Verification: https://myaccount.google.com/apppasswords); with OAuth, authorize " +
      "again with `mailserver authorize FILE` and check that the token's account is auth.username.",
  },
  {
    vendor: "gmail",
    code: 534,
    enhanced: "5.7.9",
    meaning: "the account needs an application-specific password",
    remedy:
      "Google requires an application-specific password for this account: create an app password " +
      "(https://myaccount.google.com/apppasswords) and reference it as auth.password, or switch to auth.method: oauth.",
  },
  {
    vendor: "gmail",
    code: 534,
    enhanced: "5.7.14",
    meaning: "Google wants an interactive sign-in before it allows this login",
    remedy:
      "Google wants an interactive sign-in before it allows this login: sign in to the account in a browser and " +
      "complete the challenge (https://accounts.google.com/DisplayUnlockCaptcha), or switch to auth.method: oauth.",
  },
];

/**
 * Vendor replies with a known cause, as data, one table per vendor (one test per row). A reply is
 * identified by its enhanced code and, where the vendor reuses a code, by its text.
 * @see https://www.rfc-editor.org/rfc/rfc3463 enhanced status codes
 */
export const KNOWN_REPLIES: readonly KnownReply[] = [...OFFICE365_REPLIES, ...GMAIL_REPLIES];

/**
 * Finds the known reply a server's reply matches: the first row whose codes match and whose text
 * (if it has one) the reply contains. With a known vendor only that vendor's replies match
 * (Gmail's 5.7.8 hint would mislead a Microsoft user); with an unknown vendor only the replies
 * whose code is the vendor's own (5.7.139, SendAsDenied...), not standard ones. The app-only rows
 * match only after an app-only login (`appOnly`), and then first.
 */
export function knownReply(reply: string, vendor?: PresetName, appOnly = false): KnownReply | undefined {
  const code = Number(/^\s*(\d{3})/.exec(reply)?.[1]);
  const text = reply.toLowerCase();
  return KNOWN_REPLIES.find(
    (known) =>
      (vendor === undefined ? !known.standard : known.vendor === vendor) &&
      (known.appOnly !== true || appOnly) &&
      (known.code === undefined || known.code === code) &&
      new RegExp(`(^|[^\\d.])${known.enhanced.replace(/\./g, "\\.")}($|[^\\d.])`).test(reply) &&
      (known.contains === undefined || text.includes(known.contains.toLowerCase())),
  );
}
