// Placeholder until the test-email command lands; replaced by its issue's work.
import { type CliIO, UsageError } from "../io.js";

export const usage = "Usage: mailserver test-email (not available yet)\n";

export async function run(_args: string[], _io: CliIO): Promise<number> {
  throw new UsageError("test-email is not available yet");
}
