#!/usr/bin/env node
// Runs `npm run demo -- --pulumi` (the real Pulumi CLI, built first when missing) and writes what it
// printed into docs/pulumi.md between the `captured-run` markers, so the walk-through there is a
// real run and not written by hand. Only what differs per machine is changed: the checkout's path
// becomes `.`, the home folder `~`; Pulumi's progress ticks (`@ updating....`) are left out.
//   node scripts/capture-walkthrough.mjs
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const page = join(root, "docs/pulumi.md");
const START = "<!-- captured-run:start -->";
const END = "<!-- captured-run:end -->";

// One pipe for stdout and stderr, so the lines keep the order they were written in.
const output = await new Promise((resolve, reject) => {
  const child = spawn("sh", ["-c", `"${process.execPath}" scripts/demo.mjs --pulumi 2>&1`], {
    cwd: root,
    env: { ...process.env, CI: "true" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let text = "";
  child.stdout.setEncoding("utf8").on("data", (chunk) => {
    text += chunk;
    process.stdout.write(chunk);
  });
  child.once("error", reject);
  child.once("close", (code) =>
    code === 0 ? resolve(text) : reject(new Error(`the demo exited with ${code}: nothing captured`)),
  );
});
if (!output.includes("== pulumi up --yes")) {
  throw new Error("the demo did not run the Pulumi CLI: nothing captured (see its output above)");
}

const version = /== pulumi CLI (v\S+) found/.exec(output)?.[1] ?? "?";
const lines = output
  .split(root)
  .join(".")
  .split(homedir())
  .join("~")
  .split("\n")
  .filter((line) => !line.startsWith("@ "))
  .join("\n")
  .trim();
const block = [
  START,
  `Captured by \`node scripts/capture-walkthrough.mjs\` on ${new Date().toISOString().slice(0, 10)}: pulumi ${version}, Node.js ${process.version}.`,
  "",
  "```text",
  lines,
  "```",
  END,
].join("\n");

const text = readFileSync(page, "utf8");
const start = text.indexOf(START);
const end = text.indexOf(END);
if (start < 0 || end < start) throw new Error(`docs/pulumi.md has no ${START} ... ${END} section`);
writeFileSync(page, `${text.slice(0, start)}${block}${text.slice(end + END.length)}`);
console.log(`\ncaptured ${lines.split("\n").length} lines into docs/pulumi.md`);
