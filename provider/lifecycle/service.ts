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

/** The setting the service stores, from the normalized declaration and the verified credentials. */
export function serviceSettingOf(
  declaration: NormalizedCustomDeclaration,
  credentials: SmtpCredentials,
  fromAddress: string | undefined,
): ServiceEmailSetting {
  if (credentials.method !== "basic") {
    // service-unsupported-auth keeps delegated grants out; validation ran before this.
    throw new TypeError(`${declaration.name}: the identity service stores Basic auth only: validate first`);
  }
  if (fromAddress === undefined) throw new TypeError(`${declaration.name}: no From address: validate first`);
  return {
    host: declaration.smtp.host,
    port: declaration.smtp.port,
    protocol: declaration.smtp.protocol,
    auth: { method: "basic", username: credentials.username, password: credentials.password },
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
