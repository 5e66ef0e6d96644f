/**
 * `compare`: the declaration (and what Pulumi recorded) against what `observe` saw, as findings
 * with stable codes. Pure: no network, no clock, no file - the same facts give the same findings.
 */
import type { NormalizedCustomDeclaration, NormalizedDeclaration } from "../declaration/normalize.js";
import { ISSUER_FAILURES } from "../errors.js";
import { serviceMismatches } from "../services/mismatches.js";
import type { ObservedEndpoints, ObservedError, ObservedFacts } from "./facts.js";
import type { RecordedOutputs } from "./recorded-state.js";

/** The finding codes (a contract: CI jobs and the provider match on them). */
export const FINDING_CODES = [
  "grant-revoked",
  "endpoint-changed",
  "issuer-unreachable",
  "smtp-unreachable",
  "starttls-missing",
  "auth-rejected",
  "cert-changed",
  "cert-expiring",
  "username-mismatch",
  "recorded-mismatch",
  "grant-refresh-failed",
  "service-mismatch",
  "service-test-failed",
  "service-unreachable",
] as const;

export type FindingCode = (typeof FINDING_CODES)[number];

/** One difference between the declared (or recorded) setting and the live one. */
export interface Finding {
  /** `warning` does not break "in sync" (only cert-expiring is a warning). */
  severity: "error" | "warning";
  code: FindingCode;
  message: string;
  /** The declaration field it is about, dotted (`auth.refreshToken`, `smtp.tls`). */
  field: string;
  /** service-mismatch: the declared value and the identity service's live one (never a secret). */
  declared?: string | number | null;
  live?: string | number | null;
}

/** Days before a certificate's notAfter from which it counts as expiring. */
export const DEFAULT_CERT_WARN_DAYS = 21;

export interface CompareInput {
  declared: NormalizedDeclaration;
  /** Pulumi's recorded outputs of this declaration (the provider's state, or a --state file). */
  recorded?: RecordedOutputs;
  observed: ObservedFacts;
  /** Default 21. */
  certWarnDays?: number;
}

const ENDPOINT_FIELDS: Record<keyof ObservedEndpoints, string> = {
  authorization: "auth.authorizationEndpoint",
  token: "auth.tokenEndpoint",
  deviceAuthorization: "auth.deviceAuthorizationEndpoint",
  revocation: "auth.revocationEndpoint",
};

/**
 * Turns facts into findings, errors before warnings in the order of the mail server page.
 * @example
 * const findings = compare({ declared, recorded: state.byName.get(declared.name), observed, certWarnDays: 21 });
 * const inSync = findings.every((finding) => finding.severity === "warning");
 */
export function compare(input: CompareInput): Finding[] {
  const { declared, recorded, observed } = input;
  const findings: Finding[] = [];
  const add = (code: FindingCode, field: string, message: string, severity: Finding["severity"] = "error") =>
    findings.push({ severity, code, message, field });

  if (recorded) recordedMismatches(declared, recorded, add);
  if (declared.server === "custom") {
    oauthFindings(declared, recorded, observed, add);
    smtpFindings(declared, recorded, observed, input.certWarnDays ?? DEFAULT_CERT_WARN_DAYS, add);
  }
  serviceFindings(declared, observed, findings);
  return findings.sort((a, b) => (a.severity === b.severity ? 0 : a.severity === "error" ? -1 : 1));
}

type Add = (code: FindingCode, field: string, message: string, severity?: Finding["severity"]) => void;

function oauthFindings(
  decl: NormalizedCustomDeclaration,
  recorded: RecordedOutputs | undefined,
  observed: ObservedFacts,
  add: Add,
) {
  const { discovery, grant } = observed;
  if (discovery && !discovery.ok && discovery.error) {
    if (discovery.error.code === "issuer-mismatch") {
      add("endpoint-changed", "auth.issuer", `the issuer changed: ${discovery.error.message}`);
    } else {
      add("issuer-unreachable", "auth.issuer", describe(discovery.error));
    }
  }
  if (
    discovery?.ok &&
    recorded?.issuer &&
    discovery.publishedIssuer &&
    !sameUrl(recorded.issuer, discovery.publishedIssuer)
  ) {
    if (!recorded.issuer.includes("{tenantid}") && !discovery.publishedIssuer.includes("{tenantid}")) {
      add(
        "endpoint-changed",
        "auth.issuer",
        `the issuer now names itself ${discovery.publishedIssuer} (recorded: ${recorded.issuer})`,
      );
    }
  }
  if (recorded?.endpoints && observed.endpoints && (!discovery || discovery.ok)) {
    for (const key of Object.keys(ENDPOINT_FIELDS) as Array<keyof ObservedEndpoints>) {
      const was = recorded.endpoints[key];
      const is = observed.endpoints[key];
      if (was !== undefined && !sameUrl(was, is)) {
        add(
          "endpoint-changed",
          ENDPOINT_FIELDS[key],
          is === undefined
            ? `the issuer no longer publishes a ${key} endpoint (recorded: ${was})`
            : `the ${key} endpoint is now ${is} (recorded: ${was})`,
        );
      }
    }
  }
  if (grant?.checked && grant.error) {
    const { code } = grant.error;
    if (ISSUER_FAILURES.has(code)) {
      // The issuer failed, not the grant: nothing says the grant is gone.
      add("issuer-unreachable", "auth.tokenEndpoint", describe(grant.error));
    } else if (code === "app-token-refused") {
      // The app-only flows: the token endpoint refuses the app's credentials (secret, key, delegation).
      add(
        "grant-revoked",
        grant.error.field ?? "auth",
        `the token endpoint refuses the app's credentials: ${describe(grant.error)}; fix them and run mailserver authorize FILE`,
      );
    } else if (code === "grant-invalid" || code === "rotated-token-not-saved") {
      add(
        "grant-revoked",
        "auth.refreshToken",
        code === "grant-invalid"
          ? `the grant no longer refreshes: ${grant.error.message}; run mailserver authorize FILE --out FILE.json`
          : `${grant.error.message}; if it no longer refreshes, run mailserver authorize FILE --out FILE.json`,
      );
    } else {
      // Refused for another reason (the client, an ID token): the grant itself may be fine.
      add(
        "grant-refresh-failed",
        grant.error.field ?? "auth.refreshToken",
        `the grant could not be refreshed: ${describe(grant.error)}`,
      );
    }
  }
  if (grant?.ok && grant.email) {
    const email = grant.email;
    const declared = decl.auth.username;
    const expected =
      declared ?? recorded?.username ?? grant.authorizedAs?.username ?? grant.authorizedAs?.email;
    const source = declared
      ? "auth.username"
      : recorded?.username
        ? "the recorded username"
        : "the username recorded at authorization";
    if (expected && expected.toLowerCase() !== email.toLowerCase()) {
      add("username-mismatch", "auth.username", `the ID token is for ${email}, but ${source} is ${expected}`);
    }
  }
}

function smtpFindings(
  decl: NormalizedCustomDeclaration,
  recorded: RecordedOutputs | undefined,
  observed: ObservedFacts,
  certWarnDays: number,
  add: Add,
) {
  const smtp = observed.smtp;
  const where = `${decl.smtp.host}:${decl.smtp.port}`;
  if (!smtp) {
    if (observed.timedOut)
      add("smtp-unreachable", "smtp.host", `${where} was not checked: the declaration's time ran out`);
    return;
  }
  const error = smtp.error;
  if (error) {
    switch (error.code) {
      case "starttls-unavailable":
        add(
          "starttls-missing",
          "smtp.protocol",
          `${where} no longer offers STARTTLS (no credential was sent): ${error.message}`,
        );
        break;
      case "auth-rejected":
      case "auth-mechanism-unsupported":
        add("auth-rejected", error.field ?? "auth", `${where} rejected the login: ${error.message}`);
        break;
      default:
        add("smtp-unreachable", error.field ?? "smtp.host", `${where}: ${describe(error)}`);
    }
  }
  const tls = smtp.tls;
  if (tls) {
    const was = recorded?.certificate?.fingerprint256;
    if (was && fingerprint(was) !== fingerprint(tls.fingerprint256)) {
      add(
        "cert-changed",
        "smtp.tls",
        `${where} presents another certificate (SHA-256 ${tls.fingerprint256}, ${tls.subject}, issued by ${tls.issuer}, valid to ${tls.validTo}; recorded ${was}); if it was renewed on purpose, run pulumi refresh`,
      );
    }
    if (tls.daysLeft < certWarnDays) {
      add(
        "cert-expiring",
        "smtp.tls",
        `the certificate of ${where} expires on ${tls.validTo} (${tls.daysLeft} days left, warning from ${certWarnDays})`,
        "warning",
      );
    }
  }
}

function serviceFindings(declared: NormalizedDeclaration, observed: ObservedFacts, findings: Finding[]) {
  const service = observed.service;
  if (!service) return;
  if (service.error) {
    findings.push({
      severity: "error",
      code: "service-unreachable",
      field: service.error.field ?? "service",
      message: describe(service.error),
    });
  }
  const where = service.label ?? "the identity service";
  if (service.live) {
    for (const mismatch of serviceMismatches(declared, service.live)) {
      findings.push({
        severity: "error",
        code: "service-mismatch",
        field: mismatch.field,
        message: `${mismatch.field} is ${show(mismatch.declared)} in the declaration but ${show(mismatch.live)} in ${where} (edited in the admin console?); pulumi up writes the declared value`,
        declared: mismatch.declared,
        live: mismatch.live,
      });
    }
  }
  if (service.test && !service.test.ok && service.test.error) {
    findings.push({
      severity: "error",
      code: "service-test-failed",
      field: service.test.error.field ?? "service",
      message: `${where} could not send with what it stores: ${describe(service.test.error)}`,
    });
  }
}

function recordedMismatches(declared: NormalizedDeclaration, recorded: RecordedOutputs, add: Add) {
  const mismatch = (field: string, declaredValue: unknown, recordedValue: unknown) =>
    add("recorded-mismatch", field, `declared ${show(declaredValue)}, recorded ${show(recordedValue)}`);
  const recordedServer = recorded.server ?? (recorded.host !== undefined ? "custom" : undefined);
  if (recordedServer !== undefined && recordedServer !== declared.server) {
    mismatch("server", declared.server, recordedServer);
    return;
  }
  if (declared.server !== "custom") return;
  const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
  if (recorded.host !== undefined && !same(recorded.host, declared.smtp.host))
    mismatch("smtp.host", declared.smtp.host, recorded.host);
  if (recorded.port !== undefined && recorded.port !== declared.smtp.port)
    mismatch("smtp.port", declared.smtp.port, recorded.port);
  if (recorded.protocol !== undefined && recorded.protocol !== declared.smtp.protocol) {
    mismatch("smtp.protocol", declared.smtp.protocol, recorded.protocol);
  }
  const username = declared.auth.username;
  if (username !== undefined && recorded.username !== undefined && !same(username, recorded.username)) {
    mismatch("auth.username", username, recorded.username);
  }
  const address = declared.from.address;
  if (address !== undefined && recorded.fromAddress !== undefined && !same(address, recorded.fromAddress)) {
    mismatch("from.address", address, recorded.fromAddress);
  }
  if ("fromName" in recorded && (recorded.fromName ?? undefined) !== declared.from.name) {
    mismatch("from.name", declared.from.name, recorded.fromName);
  }
  if ("replyTo" in recorded && (recorded.replyTo || undefined) !== declared.replyTo) {
    mismatch("replyTo", declared.replyTo, recorded.replyTo || undefined);
  }
  if (declared.auth.method === "oauth") {
    const issuer = declared.auth.issuer;
    if (
      issuer &&
      recorded.issuer &&
      !sameUrl(issuer, recorded.issuer) &&
      !recorded.issuer.includes("{tenantid}")
    ) {
      mismatch("auth.issuer", issuer, recorded.issuer);
    }
    if (recorded.scopes) {
      const granted = new Set(recorded.scopes);
      // offline_access asks for a refresh token; issuers do not always list it among granted scopes.
      const missing = declared.auth.scopes.filter(
        (scope) => scope !== "offline_access" && !granted.has(scope),
      );
      if (missing.length > 0) {
        add(
          "recorded-mismatch",
          "auth.scopes",
          `declared scopes ${missing.join(", ")} are not in the recorded grant (${recorded.scopes.join(" ")})`,
        );
      }
    }
  }
}

function describe(error: ObservedError): string {
  return `${error.message} (${error.code})`;
}

function show(value: unknown): string {
  return value === undefined || value === null || value === "" ? "(not set)" : JSON.stringify(value);
}

function sameUrl(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.replace(/\/+$/, "") === b.replace(/\/+$/, "");
}

function fingerprint(value: string): string {
  return value.replace(/:/g, "").toUpperCase();
}
