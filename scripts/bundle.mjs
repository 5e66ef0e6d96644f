#!/usr/bin/env node
// Bundles the compiled CLI (dist/cli/main.js, what tsc emitted) into dist/cli-bundle/ for
// bin/mailserver.js. Why: a `mailserver` run is mostly Node starting and loading modules; ESM loads
// each of our ~60 small files and nodemailer's and yaml's many CommonJS files one by one (resolve,
// stat, read, compile). One file per command loads in a fraction of that time (bench/test-email).
//
// - Code splitting keeps main.ts's lazy command registry lazy: each `import("./commands/x.js")`
//   becomes its own chunk, so `mailserver validate` still never loads nodemailer or OAuth code.
// - Only yaml and nodemailer are bundled (pure JavaScript, loaded on hot paths). Everything else
//   stays an import from node_modules: @pulumi/pulumi, openid-client and oidc-provider are big and
//   off the CLI's hot paths, and `open` finds its xdg-open script next to its own file.
// - The output sits two folders below the package root, like dist/cli/main.js, so that paths
//   relative to import.meta.url (main.ts reads ../../package.json for --version; the generated
//   schema validator requires ajv-formats) resolve the same from the bundle.
// - Bundled CommonJS (nodemailer, yaml) calls require() for Node built-ins: the banner gives each
//   output file a real `require`.
import { rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const OUT_DIR = join(root, "dist", "cli-bundle");
const BUNDLED_PACKAGES = new Set(["yaml", "nodemailer"]);

/** Bare specifiers of packages not in BUNDLED_PACKAGES stay imports (resolved at run time). */
const externalPackages = {
  name: "external-packages",
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith("node:")) return { path: args.path, external: true };
      const name = args.path.startsWith("@")
        ? args.path.split("/").slice(0, 2).join("/")
        : (args.path.split("/")[0] ?? "");
      return BUNDLED_PACKAGES.has(name) ? undefined : { path: args.path, external: true };
    });
  },
};

await rm(OUT_DIR, { recursive: true, force: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: { main: join(root, "dist", "cli", "main.js") },
  outdir: OUT_DIR,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  chunkNames: "[name]-[hash]",
  banner: {
    js: 'import { createRequire as __bundleCreateRequire } from "node:module"; const require = __bundleCreateRequire(import.meta.url);',
  },
  plugins: [externalPackages],
  logLevel: "warning",
  metafile: true,
});
// What went where, for test/cli/bundle.test.ts (which commands load which packages) and for people.
await writeFile(join(OUT_DIR, "metafile.json"), JSON.stringify(result.metafile));
if (process.argv.includes("--report")) {
  for (const [file, { bytes }] of Object.entries(result.metafile.outputs)) {
    console.log(`${String(bytes).padStart(9)}  ${file}`);
  }
}
