// Placeholder until the drift command lands; replaced by its issue's work.
import { type CliIO, UsageError } from "../io.js";

export const usage = "Usage: mailserver drift (not available yet)\n";

export async function run(_args: string[], _io: CliIO): Promise<number> {
  throw new UsageError("drift is not available yet");
}
