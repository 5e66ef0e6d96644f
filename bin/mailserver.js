#!/usr/bin/env node
// The installed entry point. `npm run build` compiles the CLI into dist/cli/ and bundles it into
// dist/cli-bundle/ (scripts/bundle.mjs: a few files load much faster than dozens). After a bare
// `tsc` the bundle is missing or older than the compiled files: then the compiled files serve.
import { statSync } from "node:fs";

const bundle = new URL("../dist/cli-bundle/main.js", import.meta.url);
const compiled = new URL("../dist/cli/main.js", import.meta.url);
const bundled = statSync(bundle, { throwIfNoEntry: false });
const fresh = bundled && bundled.mtimeMs >= (statSync(compiled, { throwIfNoEntry: false })?.mtimeMs ?? 0);
const { main } = await import(fresh ? bundle.href : compiled.href);

process.exitCode = await main(process.argv.slice(2));
