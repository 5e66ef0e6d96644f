/**
 * Prompts during `pulumi up`: the device-flow code or the loopback URL must reach a person at
 * default verbosity. The engine passes a dynamic provider's console output through as a diagnostic
 * of its resource, so the prompt goes to the console; it also goes to the controlling terminal
 * when there is one. With no terminal (CI) nobody can sign in: say so at once instead of waiting.
 */
import { closeSync, openSync, writeSync } from "node:fs";

export interface PromptOptions {
  /** The environment (default process.env). */
  env?: Record<string, string | undefined>;
  /** Writes to the console that the engine passes through (default console.log). */
  log?: (line: string) => void;
}

/**
 * The controlling terminal to also write prompts to: `MAILSERVER_PROMPT_TTY` (a path, or `none`),
 * else /dev/tty when it can be opened.
 */
export function terminalPath(env: Record<string, string | undefined> = process.env): string | undefined {
  const configured = env.MAILSERVER_PROMPT_TTY;
  if (configured === "none") return undefined;
  const path = configured || "/dev/tty";
  try {
    closeSync(openSync(path, "w"));
    return path;
  } catch {
    return undefined;
  }
}

/**
 * Whether someone can complete an interactive authorization now. `MAILSERVER_INTERACTIVE=1`
 * says yes (someone reads the passed-through output: the demo, a `pulumi up` watched by a
 * person without a terminal), `0` says no; otherwise yes only with a terminal and outside CI.
 */
export function canPrompt(env: Record<string, string | undefined> = process.env): boolean {
  if (env.MAILSERVER_INTERACTIVE === "1") return true;
  if (env.MAILSERVER_INTERACTIVE === "0") return false;
  if (env.CI && env.CI !== "false" && env.CI !== "0") return false;
  return terminalPath(env) !== undefined;
}

/** Returns a prompt writer: each line to the passed-through console, and to the terminal if any. */
export function promptWriter(options: PromptOptions = {}): (line: string) => void {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => console.log(line));
  const tty = terminalPath(env);
  return (line: string) => {
    log(line);
    if (!tty) return;
    try {
      const fd = openSync(tty, "w");
      try {
        writeSync(fd, `${line}\n`);
      } finally {
        closeSync(fd);
      }
    } catch {
      // The terminal went away: the console copy still reaches the engine.
    }
  };
}
