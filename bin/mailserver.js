#!/usr/bin/env node
// The installed entry point. `npm run build` compiles the CLI into dist/ and bundles it into
// dist/cli-bundle/ (scripts/bundle.mjs: a few files load much faster than dozens); after a bare
// `tsc` there is no bundle yet, and the compiled files serve.
import { existsSync } from "node:fs";

const bundle = new URL("../dist/cli-bundle/main.js", import.meta.url);
const { main } = await import(existsSync(bundle) ? bundle.href : "../dist/cli/main.js");

process.exitCode = await main(process.argv.slice(2));
