#!/usr/bin/env node
// The baseline of bench/validate: read every file of a folder, parse it with `yaml`, check it with
// the same compiled ajv schema. No positions, no rules, no output: the floor a validator can reach.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { validate } from "../../dist/provider/declaration/generated/schema-validator.js";

const folder = process.argv[2];
let invalid = 0;
for (const name of readdirSync(folder)) {
  if (!validate(parse(readFileSync(join(folder, name), "utf8")))) invalid++;
}
process.exitCode = invalid === 0 ? 0 : 1;
