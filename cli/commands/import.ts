import { writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { stringify } from "yaml";
import type { IdentityService } from "../../provider/declaration/generated/declaration.js";
import { normalizeDeclaration } from "../../provider/declaration/normalize.js";
import { describeErrors } from "../../provider/declaration/problem.js";
import { validateDeclarationValue } from "../../provider/declaration/validate.js";
import { MailServerError } from "../../provider/errors.js";
import { connectService } from "../../provider/services/index.js";
import { declarationFromLive } from "../../provider/services/live-declaration.js";
import { type CliIO, UsageError } from "../io.js";
import { parseCommandArgs } from "../parse-args.js";

export const usage = `Usage: mailserver import --service keycloak --url URL --realm REALM [--admin-realm R]
                        --client-id ID --client-secret-env NAME [--out FILE] [--name NAME]

Reads the email settings an identity service has now (a Keycloak realm's Realm settings, Email)
and writes them as a declaration, so a setting clicked together in the admin console can be
adopted: applying the declaration changes nothing in the realm. The service never returns stored
secrets: they become { env: ... } references, whose names are printed on stderr.

Options:
  --service TYPE            the identity service: keycloak
  --url URL                 its base URL (https; http only for loopback hosts)
  --realm REALM             the realm whose email settings to read
  --admin-realm R           where the admin client is registered (default: the realm)
  --client-id ID            a confidential client whose service account may view the realm
  --client-secret-env NAME  the environment variable that holds that client's secret
  --out FILE                write the declaration to FILE instead of stdout
  --name NAME               the declaration's name (default: from the realm)

Exit codes: 0 written, 1 the service could not be read or its setting cannot be declared,
2 usage (unknown flag, missing option, unset variable).
`;

export async function run(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    service: { type: "string" },
    url: { type: "string" },
    realm: { type: "string" },
    "admin-realm": { type: "string" },
    "client-id": { type: "string" },
    "client-secret-env": { type: "string" },
    out: { type: "string" },
    name: { type: "string" },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
  for (const flag of ["service", "url", "realm", "client-id", "client-secret-env"] as const) {
    if (values[flag] === undefined) throw new UsageError(`--${flag} is required`);
  }
  if (values.service !== "keycloak") throw new UsageError("--service must be keycloak");
  const secretEnv = values["client-secret-env"] as string;
  const realm = values.realm as string;
  const name = values.name ?? declarationName(realm);
  const service: IdentityService = {
    type: "keycloak",
    url: values.url as string,
    realm,
    ...(values["admin-realm"] !== undefined && { adminRealm: values["admin-realm"] }),
    clientId: values["client-id"] as string,
    clientSecret: { env: secretEnv },
  };
  // The flags are checked as the declaration they become (URL scheme, names), before any request.
  const checked = validateDeclarationValue({ version: 1, name, server: "builtin", service });
  if (!checked.valid) {
    throw new UsageError(describeErrors("the options", checked.problems).join("; "));
  }
  const secret = io.env[secretEnv];
  if (!secret) throw new UsageError(`--client-secret-env ${secretEnv}: the environment variable is not set`);

  const normalized = normalizeDeclaration(checked.declaration!);
  const connection = await connectService(normalized.service!, secret);
  const prefix = name.toUpperCase().replace(/-/g, "_");
  const passwordEnv = `${prefix}_SMTP_PASSWORD`;
  const clientSecretEnv = `${prefix}_OAUTH_CLIENT_SECRET`;
  const declaration = declarationFromLive(await connection.read(), {
    name,
    service,
    passwordEnv,
    clientSecretEnv,
  });
  const written = validateDeclarationValue(declaration);
  if (!written.valid) {
    // The live setting holds something a declaration cannot say (exit 1, as the usage promises).
    throw new MailServerError(
      "service-setting-unsupported",
      `the imported declaration does not validate: ${describeErrors(name, written.problems).join("; ")}`,
      { field: "service" },
    );
  }
  const text = `# Imported by mailserver import from ${connection.label}\n${stringify(declaration)}`;
  if (values.out !== undefined) {
    await writeFile(resolve(io.cwd, values.out), text, "utf8");
    io.stderr.write(`mailserver import: wrote ${values.out}\n`);
  } else {
    io.stdout.write(text);
  }
  const secrets = [
    ...(declaration.auth?.method === "basic" ? [`${passwordEnv} (auth.password: the SMTP password)`] : []),
    ...(declaration.auth?.method === "oauth"
      ? [`${clientSecretEnv} (auth.clientSecret: the OAuth client's secret)`]
      : []),
    `${secretEnv} (service.clientSecret: the admin client's secret)`,
  ];
  io.stderr.write(
    `mailserver import: ${connection.label} never returns stored secrets; set ${secrets.join(" and ")} before applying\n`,
  );
  return 0;
}

/** A declaration name from a realm name: lowercase letters, digits and '-'. */
function declarationName(realm: string): string {
  const slug = realm
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 58);
  return `${slug || "realm"}-mail`;
}
