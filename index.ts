/**
 * The Pulumi program of this repository (Pulumi.yaml runs its compiled form, dist/index.js): loads
 * every declaration in the folder named by the stack config `mailserver:declarations` (default
 * `mailservers/`) and creates a MailServer for each, exporting their non-secret outputs.
 */
import * as pulumi from "@pulumi/pulumi";
import { loadDeclarations, MailServer } from "./provider/index.js";

const config = new pulumi.Config("mailserver");
const folder = config.get("declarations") ?? "mailservers";

/** Outputs worth showing in `pulumi stack output`; the secrets stay on the resource. */
function publicOutputs(server: MailServer) {
  return {
    server: server.server,
    host: server.host,
    port: server.port,
    protocol: server.protocol,
    username: server.username,
    fromName: server.fromName,
    fromAddress: server.fromAddress,
    replyTo: server.replyTo,
    issuer: server.issuer,
    endpoints: server.endpoints,
    scopes: server.scopes,
    grantedAt: server.grantedAt,
    lastVerifiedAt: server.lastVerifiedAt,
    verification: server.verification,
    certificate: server.certificate,
  };
}

export const mailServers = loadDeclarations(folder).then((declarations) =>
  Object.fromEntries(
    declarations.map(({ declaration, baseDir }) => [
      declaration.name,
      publicOutputs(MailServer.fromDeclaration(declaration, baseDir)),
    ]),
  ),
);
