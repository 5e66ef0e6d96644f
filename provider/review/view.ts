/**
 * What a reviewer compares: a declaration as a flat list of settings, after the preset and the
 * defaults are applied (so `protocol: tls -> starttls` also shows the port that follows), with
 * secret references shown as references (`env:SMTP_PASSWORD`) and never resolved.
 */
import type { MailServerDeclaration } from "../declaration/generated/declaration.js";
import {
  type NormalizedDeclaration,
  normalizeDeclaration,
  type SecretReference,
} from "../declaration/normalize.js";
import { describeSecretReference } from "../declaration/secrets.js";

/** One setting as shown in a review. Lists (scopes, recipients) compare as sets. */
export interface ReviewValue {
  /** The text shown, or the items of a list. */
  value: string | string[];
  /** A secret reference: the value is where the secret lives, not the secret. */
  secret?: true;
}

/** Settings in the order people read the mail server page; a review lists changes in this order. */
export const REVIEW_FIELDS = [
  "name",
  "server",
  "preset",
  "smtp.host",
  "smtp.protocol",
  "smtp.port",
  "smtp.tls.ca",
  "smtp.tls.servername",
  "smtp.timeouts.connectionMs",
  "smtp.timeouts.greetingMs",
  "smtp.timeouts.socketMs",
  "auth.method",
  "auth.username",
  "auth.password",
  "auth.issuer",
  "auth.authorizationEndpoint",
  "auth.tokenEndpoint",
  "auth.deviceAuthorizationEndpoint",
  "auth.revocationEndpoint",
  "auth.clientId",
  "auth.clientSecret",
  "auth.scopes",
  "auth.flow",
  "auth.redirectUri",
  "auth.tenantId",
  "auth.refreshToken",
  "auth.clientAssertion.privateKey",
  "auth.clientAssertion.keyId",
  "auth.clientAssertion.certificate",
  "auth.serviceAccountKey",
  "from.name",
  "from.address",
  "replyTo",
  "service.type",
  "service.url",
  "service.realm",
  "service.adminRealm",
  "service.clientId",
  "service.clientSecret",
  "testEmail.to",
  "testEmail.subject",
  "testEmail.onDeploy",
  "testEmail.required",
] as const;

export type ReviewField = (typeof REVIEW_FIELDS)[number];

/** A valid declaration prepared for review: its normalized form and its settings by field. */
export interface ReviewedDeclaration {
  declared: MailServerDeclaration;
  normalized: NormalizedDeclaration;
  fields: Map<ReviewField, ReviewValue>;
}

/**
 * Flattens a valid declaration into review settings. Timeouts appear only when declared (their
 * defaults would be noise in every added declaration); every other default is shown as applied.
 * @example
 * reviewView(declaration).fields.get("auth.password") // { value: "env:SMTP_PASSWORD", secret: true }
 */
export function reviewView(declared: MailServerDeclaration): ReviewedDeclaration {
  const normalized = normalizeDeclaration(declared);
  const fields = new Map<ReviewField, ReviewValue>();
  const put = (field: ReviewField, value: string | number | boolean | string[] | undefined) => {
    if (value === undefined) return;
    fields.set(field, { value: Array.isArray(value) ? [...value] : String(value) });
  };
  const putSecret = (field: ReviewField, ref: SecretReference | undefined) => {
    if (ref) fields.set(field, { value: describeSecretReference(ref), secret: true });
  };

  put("name", normalized.name);
  put("server", normalized.server);
  if (normalized.server === "custom") {
    put("preset", declared.preset);
    const { smtp, auth } = normalized;
    put("smtp.host", smtp.host);
    put("smtp.protocol", smtp.protocol);
    put("smtp.port", smtp.port);
    if (smtp.caFile !== undefined) put("smtp.tls.ca", `file:${smtp.caFile}`);
    put("smtp.tls.servername", smtp.servername);
    const timeouts = declared.smtp?.timeouts;
    put("smtp.timeouts.connectionMs", timeouts?.connectionMs);
    put("smtp.timeouts.greetingMs", timeouts?.greetingMs);
    put("smtp.timeouts.socketMs", timeouts?.socketMs);
    put("auth.method", auth.method);
    put("auth.username", auth.username);
    if (auth.method === "basic") {
      putSecret("auth.password", auth.password);
    } else {
      put("auth.issuer", auth.issuer);
      put("auth.authorizationEndpoint", auth.authorizationEndpoint);
      put("auth.tokenEndpoint", auth.tokenEndpoint);
      put("auth.deviceAuthorizationEndpoint", auth.deviceAuthorizationEndpoint);
      put("auth.revocationEndpoint", auth.revocationEndpoint);
      put("auth.clientId", auth.clientId);
      putSecret("auth.clientSecret", auth.clientSecret);
      put("auth.scopes", auth.scopes);
      put("auth.flow", auth.flow);
      put("auth.redirectUri", auth.redirectUri);
      put("auth.tenantId", auth.tenantId);
      putSecret("auth.refreshToken", auth.refreshToken);
      // The app-only credentials: a changed key or key file is a change a reviewer must see.
      putSecret("auth.clientAssertion.privateKey", auth.clientAssertion?.privateKey);
      put("auth.clientAssertion.keyId", auth.clientAssertion?.keyId);
      const certificate = auth.clientAssertion?.certificate;
      if (certificate) put("auth.clientAssertion.certificate", `file:${certificate.file}`);
      putSecret("auth.serviceAccountKey", auth.serviceAccountKey);
    }
    put("from.name", normalized.from.name);
    put("from.address", normalized.from.address);
    put("replyTo", normalized.replyTo);
  }
  const service = normalized.service;
  if (service) {
    put("service.type", service.type);
    put("service.url", service.url);
    put("service.realm", service.realm);
    put("service.adminRealm", service.adminRealm);
    put("service.clientId", service.clientId);
    putSecret("service.clientSecret", service.clientSecret);
  }
  const testEmail = normalized.testEmail;
  if (testEmail) {
    put("testEmail.to", testEmail.to);
    put("testEmail.subject", testEmail.subject);
    put("testEmail.onDeploy", testEmail.onDeploy);
    put("testEmail.required", testEmail.required);
  }
  return { declared, normalized, fields };
}

/** Whether two review values say the same (lists as sets, case-sensitive). */
export function sameValue(a: ReviewValue | undefined, b: ReviewValue | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (Array.isArray(a.value) && Array.isArray(b.value)) {
    const left = new Set(a.value);
    const right = new Set(b.value);
    return left.size === right.size && [...left].every((item) => right.has(item));
  }
  return a.value === b.value && a.secret === b.secret;
}
