/**
 * A Pulumi program that declares a MailServer in code (a separate project: copy this folder,
 * `npm install pulumi-mailserver @pulumi/pulumi`, and run `pulumi up`). See Pulumi.dev.yaml for
 * the stack config with the secret that `{ config: ... }` references.
 */
import * as pulumi from "@pulumi/pulumi";
import { MailServer } from "pulumi-mailserver";

const corpMail = new MailServer("corp-mail", {
  version: 1,
  preset: "office365",
  auth: {
    method: "oauth",
    clientId: "00000000-0000-0000-0000-000000000000", // your app registration's Application (client) ID
    scopes: ["https://outlook.office365.com/SMTP.Send", "openid", "email", "offline_access"],
    flow: "device",
    username: "notifications@contoso.com",
    // The grant from `mailserver authorize corp-mail.yaml --out .secrets/corp-mail.json`, kept as a stack secret:
    //   pulumi config set --secret mailserver:corpMailRefreshToken "$(jq -r .refreshToken .secrets/corp-mail.json)"
    refreshToken: { config: "mailserver:corpMailRefreshToken" },
  },
  from: { name: "Contoso Notifications", address: "notifications@contoso.com" },
  replyTo: "support@contoso.com",
  testEmail: { to: ["it-ops@contoso.com"], onDeploy: true },
});

// A Basic-auth server whose password is a Pulumi secret given inline.
const relay = new MailServer("relay", {
  smtp: { host: "smtp.example.net", protocol: "tls" },
  auth: {
    method: "basic",
    username: "relay@example.net",
    password: new pulumi.Config("mailserver").requireSecret("relayPassword"),
  },
  from: { address: "no-reply@example.net" },
  testEmail: { to: ["ops@example.net"], required: true },
});

export const corpMailHost = corpMail.host;
export const corpMailUsername = corpMail.username;
export const relayVerifiedAt = relay.lastVerifiedAt;
// Applications read `transport` (a secret: nodemailer options) with a StackReference.
export const corpMailTransport = corpMail.transport;
