// Imported by the commands only, so the CLI's entry (cli/main.ts) loads nothing to start.
import { type ParseArgsConfig, parseArgs } from "node:util";

/**
 * Parses a command's arguments by the CLI's one policy: unknown flags are usage errors (exit 2),
 * positionals are allowed (the command checks how many it takes).
 */
export function parseCommandArgs<const O extends NonNullable<ParseArgsConfig["options"]>>(
  args: string[],
  options: O,
): ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>> {
  return parseArgs({ args, options, allowPositionals: true, strict: true });
}
