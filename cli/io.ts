/** Where a command reads and writes: the real process by default, swapped in tests. */
export interface CliIO {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  env: Record<string, string | undefined>;
  cwd: string;
}

export function processIO(): CliIO {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
}

/** A command's result: its exit code (0 success, 1 failure, 2 usage). */
export type ExitCode = number;

/** Thrown for a wrongly called command; main prints it with the command's usage and exits 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** Colors only for people: a TTY, and NO_COLOR unset. */
export function colorizer(stream: CliIO["stdout"], env: CliIO["env"]) {
  const on = stream.isTTY === true && env.NO_COLOR === undefined && env.TERM !== "dumb";
  const wrap = (code: number) => (text: string) => (on ? `\x1b[${code}m${text}\x1b[0m` : text);
  return { red: wrap(31), yellow: wrap(33), green: wrap(32), dim: wrap(2), bold: wrap(1) };
}

/**
 * One JSON document on stdout. JSON.stringify escapes C0 controls; DEL, C1 controls and the
 * bidirectional overrides are escaped here too (`\u202e`), so that input echoed in a value cannot
 * act on a terminal that shows the document. The value is the same JSON.
 */
export function writeJson(io: CliIO, value: unknown): void {
  const text = JSON.stringify(value, null, 2).replace(
    /[\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g,
    (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  io.stdout.write(`${text}\n`);
}

/** The value of `--format`, one of `formats`; anything else is a usage error that names them. */
export function formatOption<const F extends readonly string[]>(
  value: string | undefined,
  formats: F,
): F[number] {
  if (value !== undefined && formats.includes(value)) return value as F[number];
  const choices = formats.length === 2 ? `${formats[0]} or ${formats[1]}` : `one of ${formats.join(", ")}`;
  throw new UsageError(`--format must be ${choices}`);
}
