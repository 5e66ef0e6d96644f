/**
 * For the Keycloak test files: the realm's email settings as the admin console sees them, an edit
 * made there, and a loopback port nobody listens on (an unreachable service).
 */
import { type AddressInfo, createServer } from "node:net";
import type { SandboxKeycloak } from "../../sandbox/keycloak.js";

/** The realm's smtpServer map, read as the bootstrap admin of master. */
export async function realmSettings(
  keycloak: SandboxKeycloak,
  realm = "corp",
): Promise<Record<string, string>> {
  const admin = await keycloak.consoleAdmin();
  return { ...((await admin.realms.findOne({ realm }))?.smtpServer as Record<string, string>) };
}

/** An edit made in the admin console (through the admin API, as the console does). */
export async function consoleEdit(
  keycloak: SandboxKeycloak,
  changes: Record<string, string>,
  realm = "corp",
): Promise<void> {
  const admin = await keycloak.consoleAdmin();
  await admin.realms.update(
    { realm },
    { smtpServer: { ...(await realmSettings(keycloak, realm)), ...changes } },
  );
}

/** A loopback port nobody listens on (taken from the OS, then released). */
export function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
