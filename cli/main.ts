import { type CliIO, type ExitCode, processIO, UsageError } from "./io.js";

/** A command module: its usage text and what it does. Loaded only when called, so that
 * `mailserver validate` never loads the OAuth, SMTP or Pulumi libraries. */
export interface Command {
  usage: string;
  run(args: string[], io: CliIO): Promise<ExitCode>;
}

/** Each command: its one-line summary, its page of the manual (docs/), and its module. */
export const COMMANDS: Record<string, { summary: string; page: string; load: () => Promise<Command> }> = {
  validate: {
    summary: "check declarations against the schema and vendor rules",
    page: "validate.md",
    load: () => import("./commands/validate.js"),
  },
  discover: {
    summary: "fetch an issuer's OAuth configuration",
    page: "oauth.md",
    load: () => import("./commands/discover.js"),
  },
  authorize: {
    summary: "sign in and consent; store the grant",
    page: "oauth.md",
    load: () => import("./commands/authorize.js"),
  },
  verify: {
    summary: "prove the SMTP login works (no message)",
    page: "smtp.md",
    load: () => import("./commands/verify.js"),
  },
  "test-email": {
    summary: "send the test email",
    page: "smtp.md",
    load: () => import("./commands/test-email.js"),
  },
  drift: {
    summary: "compare live facts with declarations and state",
    page: "drift.md",
    load: () => import("./commands/drift.js"),
  },
  diff: {
    summary: "review what a change to declarations does",
    page: "review.md",
    load: () => import("./commands/diff.js"),
  },
};

/** The last line of a command's help: its page of the manual, which ships with the package. */
export function manualLine(page: string): string {
  return `Manual: pulumi-mailserver/${page}\n`;
}

export const USAGE = `Usage: mailserver <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, { summary }]) => `  ${name.padEnd(11)} ${summary}`)
  .join("\n")}

Run \`mailserver <command> --help\` for a command's options.
Exit codes: 0 success, 1 failure, 2 usage error.
${manualLine("README.md")}`;

/** Runs the CLI and returns its exit code. The one place that turns failures into exit codes. */
export async function main(argv: string[], io: CliIO = processIO()): Promise<ExitCode> {
  const [name, ...args] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    (name === undefined ? io.stderr : io.stdout).write(USAGE);
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-v") {
    const { createRequire } = await import("node:module");
    io.stdout.write(`${createRequire(import.meta.url)("../../package.json").version}\n`);
    return 0;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    io.stderr.write(`mailserver: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  const command = await entry.load();
  if (args.includes("--help") || args.includes("-h")) {
    io.stdout.write(`${command.usage}\n${manualLine(`docs/${entry.page}`)}`);
    return 0;
  }
  try {
    return await command.run(args, io);
  } catch (error) {
    return report(error, command, io);
  }
}

async function report(error: unknown, command: Command, io: CliIO): Promise<ExitCode> {
  // Messages may quote input (paths, values, servers' replies): no control character of theirs
  // reaches the terminal.
  const { escapeLines } = await import("../provider/declaration/problem.js");
  if (error instanceof UsageError || isParseArgsError(error)) {
    io.stderr.write(`mailserver: ${escapeLines((error as Error).message)}\n\n${command.usage}`);
    return 2;
  }
  const { isMailServerError } = await import("../provider/errors.js");
  if (isMailServerError(error)) {
    io.stderr.write(`mailserver: ${escapeLines(error.describe())}\n`);
    return 1;
  }
  // A bug: say so, without a stack trace unless asked for (the message holds no secrets).
  const detail = io.env.MAILSERVER_DEBUG
    ? (error as Error)?.stack
    : String((error as Error)?.message ?? error);
  io.stderr.write(`mailserver: internal error (a bug in pulumi-mailserver, please report it): ${detail}\n`);
  return 70;
}

function isParseArgsError(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return typeof code === "string" && code.startsWith("ERR_PARSE_ARGS_");
}
