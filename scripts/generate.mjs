#!/usr/bin/env node
// Generates, from schema/mailserver.schema.json (the source of truth):
//  - provider/declaration/generated/schema-validator.ts: ajv's standalone validator, so that
//    `mailserver validate` starts without loading or compiling ajv (see bench/cold-start);
//  - provider/declaration/generated/declaration.ts: the TypeScript types of a declaration;
//  - docs/declaration.md: the declaration's reference (with provider/declaration/problem-codes.json).
// `--check` fails when the committed files are stale (run by the test suite).
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { generateSchemaSources } from "./schema-sources.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const sources = await generateSchemaSources(root);
const check = process.argv.includes("--check");
let stale = false;
for (const [name, text] of Object.entries(sources)) {
  const path = join(root, name);
  let current = "";
  try {
    current = readFileSync(path, "utf8");
  } catch {}
  if (current === text) continue;
  if (check) {
    stale = true;
    console.error(`${path} is stale: run npm run gen:types`);
  } else {
    writeFileSync(path, text);
    console.log(`wrote ${path}`);
  }
}
process.exit(stale ? 1 : 0);
