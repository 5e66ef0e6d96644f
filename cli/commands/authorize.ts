// Placeholder until the authorize command lands; replaced by its issue's work.
import { type CliIO, UsageError } from "../io.js";

export const usage = "Usage: mailserver authorize (not available yet)\n";

export async function run(_args: string[], _io: CliIO): Promise<number> {
  throw new UsageError("authorize is not available yet");
}
