import schema from "../../schema/mailserver.schema.json" with { type: "json" };
import type { MailServerDeclaration } from "./generated/declaration.js";

/**
 * The declaration's top-level fields, read from the schema (its order is the order people read
 * them), so a field added to the schema is carried everywhere the declaration is split or copied.
 */
export const DECLARATION_KEYS = Object.keys(schema.properties) as ReadonlyArray<keyof MailServerDeclaration>;

/**
 * OAuth settings bound into a grant: when one changes, the stored refresh token no longer fits
 * and someone must authorize again (`grant-renewal` in reviews, "grant renewal needed" in diffs).
 */
export const GRANT_BOUND_FIELDS = [
  "auth.issuer",
  "auth.authorizationEndpoint",
  "auth.tokenEndpoint",
  "auth.deviceAuthorizationEndpoint",
  "auth.clientId",
  "auth.tenantId",
  "auth.scopes",
  "auth.flow",
] as const;
