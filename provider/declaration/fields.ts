import schema from "../../schema/mailserver.schema.json" with { type: "json" };
import type { MailServerDeclaration } from "./generated/declaration.js";

/**
 * The declaration's top-level fields, read from the schema (its order is the order people read
 * them), so a field added to the schema is carried everywhere the declaration is split or copied.
 */
export const DECLARATION_KEYS = Object.keys(schema.properties) as ReadonlyArray<keyof MailServerDeclaration>;
