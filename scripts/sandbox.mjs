#!/usr/bin/env node
// `npm run sandbox`: the sandbox OpenID Provider and SMTP server on loopback, for trying the tool
// without a Google or Microsoft account. Writes ready-to-use declarations to a folder (default
// .sandbox/), prints the commands to try, shows every message that arrives, and runs until Ctrl-C.
//   --dir PATH        where to write the declarations (default .sandbox)
//   --auto-approve    approve device codes on the OP's pages by itself after 3 seconds
import { relative, resolve } from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    dir: { type: "string", default: ".sandbox" },
    "auto-approve": { type: "boolean", default: false },
  },
});
const { startSandboxOP, accessTokenVerifier } = await import("../dist/sandbox/op.js");
const { startSandboxSmtp } = await import("../dist/sandbox/smtp.js");
const { writeSandboxFolder } = await import("../dist/sandbox/declarations.js");

const op = await startSandboxOP({
  deviceFlowInterval: 2,
  ...(values["auto-approve"] && { autoApproveDevice: { afterMs: 3000 } }),
});
const smtp = await startSandboxSmtp({
  verifyAccessToken: accessTokenVerifier(op),
});

const dir = resolve(values.dir);
writeSandboxFolder(dir, op, smtp, resolve("schema/mailserver.schema.json"));

const at = relative(process.cwd(), dir) || ".";
console.log(`Sandbox OpenID Provider  ${op.issuer}  (sign in as ${op.account.login}, any password)
Sandbox SMTP server      127.0.0.1:${smtp.tlsPort} implicit TLS, 127.0.0.1:${smtp.starttlsPort} STARTTLS
                         certificate from a throwaway CA (${at}/ca.pem); Basic login ${smtp.account.username}
Declarations in ${at}/. Try:

  npx mailserver validate ${at}
  npx mailserver discover ${op.issuer}
  npx mailserver verify ${at}/basic-starttls.yaml
  npx mailserver test-email ${at}/basic-starttls.yaml
  npx mailserver authorize ${at}/oauth-device.yaml --out ${at}/.secrets/oauth-device.json${values["auto-approve"] ? "   (approved by itself after 3 s)" : ""}
  npx mailserver authorize ${at}/oauth-loopback.yaml --out ${at}/.secrets/oauth-loopback.json
  npx mailserver test-email ${at}/oauth-device.yaml
  npx mailserver authorize ${at}/app-client-credentials.yaml      (app-only: nobody signs in, nothing stored)
  npx mailserver test-email ${at}/app-service-account.yaml
  npx mailserver drift ${at}

Messages that arrive are shown below. Ctrl-C stops both servers (they keep everything in memory).
`);

let shown = 0;
const timer = setInterval(() => {
  for (; shown < smtp.messages.length; shown++) {
    const { parsed, user } = smtp.messages[shown];
    console.log(
      `[smtp] from ${parsed.from?.text ?? "?"} to ${[parsed.to]
        .flat()
        .map((to) => to?.text)
        .join(", ")} (login ${user}): ${parsed.subject ?? ""}`,
    );
  }
}, 250);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  clearInterval(timer);
  await Promise.allSettled([op.stop(), smtp.stop()]);
  process.exit(0);
}
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
