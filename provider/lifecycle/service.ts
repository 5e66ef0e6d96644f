/**
 * "Save": the verified setting written into the identity service that sends with it (`service`),
 * and cleared from it on delete. Runs only after SMTP verification passed, so nothing is written
 * for a setting that does not work. With `testEmail` the service first sends its own test email
 * with the new setting (Keycloak's Test connection, before saving: a failed required test leaves
 * the realm untouched).
 */
import type {
  NormalizedCustomDeclaration,
  NormalizedDeclaration,
  NormalizedService,
} from "../declaration/normalize.js";
import type { SecretResolver } from "../declaration/secrets.js";
import { isMailServerError } from "../errors.js";
import type { ServiceEmailSetting } from "../services/service.js";
import type { LifecycleSteps, SmtpCredentials } from "./steps.js";

export interface SaveIntoServiceOptions {
  steps: LifecycleSteps;
  secret: SecretResolver;
  log: (line: string) => void;
}

/** What the app-only flow used, for a service that runs the client credentials grant itself. */
export interface ClientCredentialsFacts {
  tokenUrl: string;
  clientSecret: string;
}

/**
 * The setting the service stores, from the normalized declaration and the verified credentials:
 * Basic auth with its password, or client credentials (the service gets its own tokens from the
 * same token endpoint with the same client secret and scopes, and logs in as the same mailbox).
 */
export function serviceSettingOf(
  declaration: NormalizedCustomDeclaration,
  credentials: SmtpCredentials,
  fromAddress: string | undefined,
  clientCredentials: ClientCredentialsFacts | undefined,
): ServiceEmailSetting {
  if (fromAddress === undefined) throw new TypeError(`${declaration.name}: no From address: validate first`);
  const { auth } = declaration;
  let serviceAuth: ServiceEmailSetting["auth"];
  if (credentials.method === "basic") {
    serviceAuth = { method: "basic", username: credentials.username, password: credentials.password };
  } else if (auth.method === "oauth" && auth.flow === "client-credentials" && clientCredentials) {
    serviceAuth = {
      method: "client-credentials",
      username: credentials.username,
      tokenUrl: clientCredentials.tokenUrl,
      clientId: auth.clientId,
      clientSecret: clientCredentials.clientSecret,
      scopes: auth.scopes,
    };
  } else {
    // service-unsupported-auth keeps every other kind out; validation ran before this.
    throw new TypeError(
      `${declaration.name}: the identity service cannot store this authentication: validate first`,
    );
  }
  return {
    host: declaration.smtp.host,
    port: declaration.smtp.port,
    protocol: declaration.smtp.protocol,
    auth: serviceAuth,
    from: {
      address: fromAddress,
      ...(declaration.from.name !== undefined && { name: declaration.from.name }),
    },
    ...(declaration.replyTo !== undefined && { replyTo: declaration.replyTo }),
  };
}

/**
 * Writes the setting into the service (or clears it: `setting` undefined, the built-in server) and
 * returns the admin client secret it used, for the state. Throws the service's coded errors.
 */
export async function saveIntoService(
  declaration: NormalizedDeclaration & { service: NormalizedService },
  setting: ServiceEmailSetting | undefined,
  options: SaveIntoServiceOptions,
): Promise<{ serviceClientSecret: string }> {
  const { service, name } = declaration;
  const serviceClientSecret = await options.secret(service.clientSecret, "service.clientSecret");
  const connection = await options.steps.connectService(service, serviceClientSecret);
  const testEmail = declaration.testEmail;
  if (setting && testEmail && (testEmail.onDeploy || testEmail.required)) {
    try {
      const report = await connection.test(setting);
      options.log(`${name}: ${connection.label} sent its test email${report.to ? ` to ${report.to}` : ""}`);
    } catch (error) {
      // A test email that is not required must not block the save: say why it failed, and how to fix it.
      if (testEmail.required || !isMailServerError(error)) throw error;
      options.log(`${name}: warning: ${error.describe()}`);
    }
  }
  if (setting) {
    await connection.apply(setting);
    options.log(`${name}: saved into ${connection.label}`);
  } else {
    await connection.clear();
    options.log(`${name}: cleared the email settings of ${connection.label}`);
  }
  return { serviceClientSecret };
}
