// Placeholder until the diff command lands; replaced by its issue's work.
import { type CliIO, UsageError } from "../io.js";

export const usage = "Usage: mailserver diff (not available yet)\n";

export async function run(_args: string[], _io: CliIO): Promise<number> {
  throw new UsageError("diff is not available yet");
}
