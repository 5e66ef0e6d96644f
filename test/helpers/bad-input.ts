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
