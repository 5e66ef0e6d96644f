// Placeholder until the discover command lands; replaced by its issue's work.
import { type CliIO, UsageError } from "../io.js";

export const usage = "Usage: mailserver discover (not available yet)\n";

export async function run(_args: string[], _io: CliIO): Promise<number> {
  throw new UsageError("discover is not available yet");
}
