import type { Rule } from "./view.js";

/**
 * `service-no-builtin` (warning): with a service, `server: builtin` means clearing the realm's email
 * settings; Keycloak has no built-in mail server, so the realm then sends no mail at all
 * (password resets, one-time codes).
 */
export const serviceWithBuiltinClearsRealm: Rule = ({ root, service }) =>
  service && root.server === "builtin"
    ? [
        {
          severity: "warning",
          code: "service-no-builtin",
          path: "/server",
          message: `server: builtin with service.type ${String(service.type)} clears the realm's email settings, and ${String(service.type)} has no built-in mail server: the realm will send no mail (no password resets, no one-time codes)`,
          hint: "Declare a custom SMTP server (server: custom with smtp and auth), or remove service if the realm is managed elsewhere.",
        },
      ]
    : [];
