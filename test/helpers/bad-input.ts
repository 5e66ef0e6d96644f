// Bad declaration inputs shared by the loader's tests and the CLI's.

/**
 * A "billion laughs" YAML document: nine levels of anchors, each aliasing the previous one nine
 * times (9^9 nodes once expanded), which the loader must refuse rather than expand.
 */
export function aliasBomb(): string {
  const levels = ["a: &a [x, x, x, x, x, x, x, x, x]"];
  for (let i = 1; i < 9; i++) {
    const previous = String.fromCharCode(96 + i);
    const name = String.fromCharCode(97 + i);
    levels.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(", ")}]`);
  }
  return `${levels.join("\n")}\n`;
}

/**
 * A 6 KB declaration whose `smtp:` holds one line of `depth` nested `a: ` mappings: the composer
 * of the YAML library recurses once per level and overflowed the call stack at 2,000.
 */
export function deepOneLine(depth = 2000): string {
  return `version: 1\nname: deep\nsmtp: ${"a: ".repeat(depth)}x\n`;
}

/** The same depth written as flow collections (JSON style), which parse without a syntax error. */
export function deepFlow(depth = 2000): string {
  return `version: 1\nname: deep\nsmtp: ${"{a: ".repeat(depth)}x${"}".repeat(depth)}\n`;
}

/** A declaration with `count` unknown top-level fields (80,000 make a 790 KB file). */
export function unknownFields(count: number): string {
  const lines = ["version: 1", "name: many", "server: builtin"];
  for (let i = 0; i < count; i++) lines.push(`k${i}: 1`);
  return `${lines.join("\n")}\n`;
}

/** A custom-server declaration with `count` recipients, each with a header injection. */
export function injectedRecipients(count: number): string {
  const lines = [
    "version: 1",
    "name: recipients",
    "smtp: { host: smtp.example.com }",
    "auth: { method: basic, username: u, password: { env: P } }",
    "from: { address: no-reply@example.com }",
    "testEmail:",
    "  to:",
  ];
  for (let i = 0; i < count; i++) lines.push(`    - "u${i}@example.com\\r\\nBcc: x@evil.test"`);
  return `${lines.join("\n")}\n`;
}

/** Matches any character that must not reach an output unescaped (see escapeControlCharacters). */
export const UNESCAPED_CONTROL =
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
