import { PRESETS, type Preset, vendorOf } from "../presets/index.js";
import { scopeList } from "./normalize.js";
import type { Problem } from "./problem.js";

/** A rule's finding before it is placed in the source. */
export interface RuleProblem extends Omit<Problem, "line" | "column"> {
  /** Point at the field's key rather than its value (a field that should not be there). */
  at?: "key" | "value";
  /** The rule explains this field better than a schema message would: drop schema problems at or under it. */
  supersedesSchema?: boolean;
}

type Fields = Record<string, unknown>;

/** What the rules read, taken defensively: they also run on declarations that fail the schema. */
interface DeclarationView {
  root: Fields;
  smtp: Fields | undefined;
  auth: Fields | undefined;
  from: Fields | undefined;
  testEmail: Fields | undefined;
  preset: Preset | undefined;
  vendor: Preset | undefined;
  oauth: boolean;
  /** Declared scopes (undefined when not declared or not readable). */
  scopes: string[] | undefined;
}

type Rule = (view: DeclarationView) => RuleProblem[];

const mapping = (value: unknown): Fields | undefined =>
  value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Fields) : undefined;
const text = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);

function view(root: Fields): DeclarationView {
  const smtp = mapping(root.smtp);
  const auth = mapping(root.auth);
  const presetName = text(root.preset);
  const preset = presetName === "gmail" || presetName === "office365" ? PRESETS[presetName] : undefined;
  const host = text(smtp?.host);
  const issuer = text(auth?.issuer);
  const rawScopes = auth?.scopes;
  const scopes =
    typeof rawScopes === "string" ||
    (Array.isArray(rawScopes) && rawScopes.every((s) => typeof s === "string"))
      ? scopeList(rawScopes as string | string[])
      : undefined;
  return {
    root,
    smtp,
    auth,
    from: mapping(root.from),
    testEmail: mapping(root.testEmail),
    preset,
    vendor: vendorOf({
      ...(presetName && { preset: presetName }),
      ...(host && { host }),
      ...(issuer && { issuer }),
    }),
    oauth: auth?.method === "oauth",
    scopes,
  };
}

/** Where a scope sits: its list item when scopes are a list, else the scopes field. */
function scopePath(auth: Fields | undefined, scope: string): string {
  const index = Array.isArray(auth?.scopes) ? (auth.scopes as unknown[]).indexOf(scope) : -1;
  return index >= 0 ? `/auth/scopes/${index}` : "/auth/scopes";
}

const gmailRejectsOfflineAccess: Rule = ({ vendor, oauth, scopes, auth }) =>
  vendor?.name === "gmail" && oauth && scopes?.includes("offline_access")
    ? [
        {
          severity: "error",
          code: "gmail-offline-access",
          path: scopePath(auth, "offline_access"),
          message: 'Google rejects the scope "offline_access"',
          hint: "Remove it: Google returns a refresh token for access_type=offline with prompt=consent, which are sent for you.",
        },
      ]
    : [];

const gmailDeviceFlowLacksMailScope: Rule = ({ vendor, oauth, auth }) =>
  vendor?.name === "gmail" && oauth && auth?.flow === "device"
    ? [
        {
          severity: "error",
          code: "gmail-device-flow",
          path: "/auth/flow",
          message: "Google's device flow does not allow the mail scope (https://mail.google.com/)",
          hint: "Use flow: loopback with a Desktop app client.",
        },
      ]
    : [];

const office365NeedsUsername: Rule = ({ preset, oauth, auth }) =>
  preset?.name === "office365" && oauth && auth?.username === undefined
    ? [
        {
          severity: "error",
          code: "office365-username",
          path: "/auth",
          message: "Office365 OAuth needs auth.username: the mailbox that sends (SMTP AUTH XOAUTH2 user)",
          hint: "Add auth.username: the sending mailbox's address, for example no-reply@contoso.com.",
        },
      ]
    : [];

const office365NeedsScopes: Rule = ({ preset, oauth, scopes }) => {
  if (preset?.name !== "office365" || !oauth || scopes === undefined) return [];
  const missing = preset.requiredScopes.filter((scope) => !scopes.includes(scope));
  return missing.length === 0
    ? []
    : [
        {
          severity: "error",
          code: "office365-scopes",
          path: "/auth/scopes",
          message: `Office365 OAuth scopes lack ${missing.join(" and ")}`,
          hint: `Add ${missing.join(" and ")}: SMTP.Send allows sending, offline_access returns a refresh token.`,
        },
      ];
};

const oauthNeedsEndpoints: Rule = ({ oauth, auth, preset }) => {
  if (!oauth || !auth) return [];
  const issuer = auth.issuer ?? preset?.issuer;
  if (issuer !== undefined) return [];
  const problems: RuleProblem[] = [];
  if (auth.authorizationEndpoint === undefined || auth.tokenEndpoint === undefined) {
    problems.push({
      severity: "error",
      code: "missing-endpoints",
      path: "/auth",
      message: "OAuth without an issuer needs both auth.authorizationEndpoint and auth.tokenEndpoint",
      hint: "Add auth.issuer to discover the endpoints, or declare both endpoints.",
    });
  }
  if (auth.flow === "device" && auth.deviceAuthorizationEndpoint === undefined) {
    problems.push({
      severity: "error",
      code: "missing-endpoints",
      path: "/auth",
      message: "the device flow without an issuer needs auth.deviceAuthorizationEndpoint",
      hint: "Add auth.issuer to discover it, or declare auth.deviceAuthorizationEndpoint.",
    });
  }
  return problems;
};

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "[::1]", "localhost"]);
const URL_FIELDS = [
  "issuer",
  "authorizationEndpoint",
  "tokenEndpoint",
  "deviceAuthorizationEndpoint",
  "revocationEndpoint",
];

function parseUrl(value: unknown): URL | undefined {
  if (typeof value !== "string") return undefined;
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

const urlsAreHttps: Rule = ({ oauth, auth }) => {
  if (!oauth || !auth) return [];
  return URL_FIELDS.flatMap((field): RuleProblem[] => {
    const url = parseUrl(auth[field]);
    if (!url || url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname)))
      return [];
    return [
      {
        severity: "error",
        code: "insecure-url",
        path: `/auth/${field}`,
        message: `auth.${field} must use https (http is allowed only for 127.0.0.1, [::1] and localhost)`,
        hint: "Tokens and client secrets travel to this URL: use https.",
      },
    ];
  });
};

const redirectIsLoopback: Rule = ({ oauth, auth }) => {
  if (!oauth || !auth || auth.flow === "device" || auth.redirectUri === undefined) return [];
  const url = parseUrl(auth.redirectUri);
  if (url && url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname)) return [];
  return [
    {
      severity: "error",
      code: "redirect-not-loopback",
      path: "/auth/redirectUri",
      message: "auth.redirectUri of the loopback flow must be http on 127.0.0.1, [::1] or localhost",
      hint: "Use for example http://127.0.0.1:0/callback (port 0 takes a free port); see RFC 8252 section 7.3.",
      supersedesSchema: true,
    },
  ];
};

const SECRET_FIELDS = [
  ["auth", "password"],
  ["auth", "clientSecret"],
  ["auth", "refreshToken"],
] as const;

const secretsAreReferences: Rule = ({ auth }) =>
  SECRET_FIELDS.flatMap(([, field]): RuleProblem[] =>
    typeof auth?.[field] === "string"
      ? [
          {
            severity: "error",
            code: "secret-literal",
            path: `/auth/${field}`,
            // Never quote the value: it is a secret that was pasted into the file.
            message: `auth.${field} is written as a plain string; secrets must be references`,
            hint: `Write { env: NAME }, { file: PATH } or { config: KEY } instead, and remove the secret from the file and its git history.`,
            supersedesSchema: true,
          },
        ]
      : [],
  );

const basicNeedsFrom: Rule = ({ auth, from }) =>
  auth?.method === "basic" && from?.address === undefined
    ? [
        {
          severity: "error",
          code: "basic-needs-from",
          path: from ? "/from" : "",
          message: "Basic authentication needs from.address: there is no ID token to take it from",
          hint: "Add from.address, the sender address the SMTP account may send as.",
        },
      ]
    : [];

const noHeaderInjection: Rule = ({ root, from, testEmail, auth }) => {
  const fields: Array<[string, unknown]> = [
    ["/from/name", from?.name],
    ["/from/address", from?.address],
    ["/replyTo", root.replyTo],
    ["/testEmail/subject", testEmail?.subject],
    ["/auth/username", auth?.username],
    ...(Array.isArray(testEmail?.to)
      ? Array.from(testEmail.to as unknown[], (to, index): [string, unknown] => [
          `/testEmail/to/${index}`,
          to,
        ])
      : []),
  ];
  return fields
    .filter(([, value]) => typeof value === "string" && /[\r\n]/.test(value))
    .map(([path]) => ({
      severity: "error",
      code: "header-injection",
      path,
      message: `${path
        .slice(1)
        .replace(/\/(\d+)/g, "[$1]")
        .replace(/\//g, ".")} contains a line break (CR or LF), which would inject mail headers`,
      hint: "Remove the line break.",
      supersedesSchema: true,
    }));
};

const builtinHasNoSmtpFields: Rule = ({ root }) =>
  root.server !== "builtin"
    ? []
    : ["preset", "smtp", "auth", "from", "replyTo"]
        .filter((field) => root[field] !== undefined)
        .map((field) => ({
          severity: "error",
          code: "builtin-extra-fields",
          path: `/${field}`,
          at: "key",
          message: `server: builtin uses the identity service's own mail server, so ${field} does not apply`,
          hint: `Remove ${field}, or set server: custom.`,
          supersedesSchema: true,
        }));

const presetMatchesFacts: Rule = ({ preset, smtp, auth, oauth }) => {
  if (!preset) return [];
  const problems: RuleProblem[] = [];
  const mismatch = (path: string, message: string, hint: string) =>
    problems.push({ severity: "error", code: "preset-mismatch", path, message, hint });
  const host = text(smtp?.host);
  if (host !== undefined && !preset.hosts.includes(host.toLowerCase())) {
    mismatch(
      "/smtp/host",
      `preset ${preset.name} sends through ${preset.hosts.join(" or ")}, not ${host}`,
      `Remove smtp.host or the preset.`,
    );
  }
  const protocol = text(smtp?.protocol);
  if (protocol !== undefined && !(preset.allowedProtocols as string[]).includes(protocol)) {
    mismatch(
      "/smtp/protocol",
      `${preset.title} does not accept protocol ${protocol}`,
      `Use ${preset.allowedProtocols.join(" or ")}.`,
    );
  }
  const port = smtp?.port;
  if (typeof port === "number" && !preset.allowedPorts.includes(port)) {
    mismatch(
      "/smtp/port",
      `${preset.title} does not accept port ${port}`,
      `Use ${preset.allowedPorts.join(" or ")}, or omit the port.`,
    );
  }
  const issuer = parseUrl(auth?.issuer);
  if (oauth && issuer && !preset.issuerHosts.includes(issuer.hostname)) {
    mismatch(
      "/auth/issuer",
      `preset ${preset.name} signs in at ${preset.issuer}, not ${issuer.origin}`,
      "Remove auth.issuer or the preset.",
    );
  }
  return problems;
};

const portMatchesProtocol: Rule = ({ smtp, preset }) => {
  const protocol = text(smtp?.protocol) ?? preset?.smtp.protocol;
  const port = smtp?.port;
  const unusual = (protocol === "tls" && port === 587) || (protocol === "starttls" && port === 465);
  return unusual
    ? [
        {
          severity: "warning",
          code: "port-protocol-mismatch",
          path: "/smtp/port",
          message: `port ${String(port)} usually speaks ${protocol === "tls" ? "STARTTLS" : "implicit TLS"}, but protocol is ${protocol}`,
          hint:
            protocol === "tls"
              ? "Use port 465 for tls, or protocol: starttls."
              : "Use port 587 for starttls, or protocol: tls.",
        },
      ]
    : [];
};

/** The named rules beyond the schema, in the order their codes are documented. */
export const RULES: Readonly<Record<string, Rule>> = {
  gmailRejectsOfflineAccess,
  gmailDeviceFlowLacksMailScope,
  office365NeedsUsername,
  office365NeedsScopes,
  oauthNeedsEndpoints,
  urlsAreHttps,
  redirectIsLoopback,
  secretsAreReferences,
  basicNeedsFrom,
  noHeaderInjection,
  builtinHasNoSmtpFields,
  presetMatchesFacts,
  portMatchesProtocol,
};

export function checkRules(root: Fields): RuleProblem[] {
  const declaration = view(root);
  return Object.values(RULES).flatMap((rule) => rule(declaration));
}
