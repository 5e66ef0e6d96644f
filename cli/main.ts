import { type CliIO, type ExitCode, processIO, UsageError, writeJson } from "./io.js";

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
  import: {
    summary: "write a declaration of an identity service's live setting",
    page: "services.md",
    load: () => import("./commands/import.js"),
  },
};

/** The last line of a command's help: its page of the manual, which ships with the package. */
function manualLine(page: string): string {
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
    return report(error, command, io, wantsJson(args));
  }
}

/**
 * A failure, said on stderr for people and, with `--format json`, as the one JSON document on
 * stdout: `{"ok": false, "error": {"code", "message", "remedy"}}` (commands print their own
 * document only on the way out, so stdout holds nothing else).
 */
async function report(error: unknown, command: Command, io: CliIO, json: boolean): Promise<ExitCode> {
  // Messages may quote input (paths, values, servers' replies): no control character of theirs
  // reaches the terminal.
  const { escapeLines } = await import("../provider/declaration/problem.js");
  const { isMailServerError } = await import("../provider/errors.js");
  let failure: { code: string; message: string; remedy: string | null; exit: ExitCode };
  if (error instanceof UsageError || isParseArgsError(error)) {
    io.stderr.write(`mailserver: ${escapeLines((error as Error).message)}\n\n${command.usage}`);
    failure = {
      code: "usage",
      message: (error as Error).message,
      remedy: "Run the command with --help.",
      exit: 2,
    };
  } else if (isMailServerError(error)) {
    io.stderr.write(`mailserver: ${escapeLines(error.describe())}\n`);
    failure = { code: error.code, message: error.message, remedy: error.remedy, exit: 1 };
  } else {
    // A bug: say so, without a stack trace unless asked for (the message holds no secrets).
    const message = String((error as Error)?.message ?? error);
    const detail = io.env.MAILSERVER_DEBUG ? (error as Error)?.stack : message;
    io.stderr.write(`mailserver: internal error (a bug in pulumi-mailserver, please report it): ${detail}\n`);
    failure = { code: "internal", message: `internal error: ${message}`, remedy: null, exit: 70 };
  }
  if (json) {
    writeJson(io, {
      ok: false,
      error: { code: failure.code, message: failure.message, remedy: failure.remedy },
    });
  }
  return failure.exit;
}

/** Whether the command was asked for `--format json` (read before its own parsing could fail). */
function wantsJson(args: readonly string[]): boolean {
  return args.some(
    (arg, index) => arg === "--format=json" || (arg === "--format" && args[index + 1] === "json"),
  );
}

function isParseArgsError(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return typeof code === "string" && code.startsWith("ERR_PARSE_ARGS_");
}
