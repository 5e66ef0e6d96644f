/**
 * The serialized provider. Pulumi serializes a dynamic provider's methods, and everything they
 * capture, into every resource's state (`__provider`) and evaluates that text in its provider host.
 * So this object is kept tiny and stable: each method finds the installed package from the
 * project directory at call time and delegates to its `lifecycle` entry. It captures no module, no
 * secret and no absolute path, so the text is the same in every checkout and a pull request that
 * changes only mail config shows only mail-config changes.
 *
 * Old resources are updated and deleted by the shim stored in their own state: the lifecycle
 * entry keeps the six functions called here, with these arguments, for as long as the package lives.
 */
import type * as pulumi from "@pulumi/pulumi";
import type * as Lifecycle from "./lifecycle.js";

/**
 * Loads `pulumi-mailserver/lifecycle` as the project sees it. The provider host evaluates the
 * serialized text as a module without a file name (its `require` only searches the working
 * directory's node_modules and can't self-reference a package), so resolve from a require rooted
 * in the project directory (the engine runs the host there): that finds the installed package,
 * and the package itself when the project is this repository. `process.getBuiltinModule` keeps
 * the function free of captured imports.
 */
async function loadLifecycle(): Promise<typeof Lifecycle> {
  // One load per host process: the engine calls the provider many times with the same project.
  const cache = globalThis as { [key: symbol]: Promise<typeof Lifecycle> | undefined };
  const key = Symbol.for("pulumi-mailserver.lifecycle");
  const cached = cache[key];
  if (cached) return cached;
  const { createRequire } = process.getBuiltinModule("node:module");
  const { join } = process.getBuiltinModule("node:path");
  const { pathToFileURL } = process.getBuiltinModule("node:url");
  let entry: string;
  try {
    entry = createRequire(join(process.cwd(), "package.json")).resolve("pulumi-mailserver/lifecycle");
  } catch {
    throw new Error(
      `pulumi-mailserver is not installed in the Pulumi project at ${process.cwd()}: run \`npm install pulumi-mailserver\` there (dynamic providers need npm or yarn; pnpm and Bun are not supported)`,
    );
  }
  const loading: Promise<typeof Lifecycle> = import(pathToFileURL(entry).href);
  cache[key] = loading;
  return loading;
}

/** The dynamic provider that `MailServer` resources carry in their state. */
export const mailServerProvider: pulumi.dynamic.ResourceProvider = {
  async check(olds, news) {
    return (await loadLifecycle()).check(olds, news);
  },
  async diff(id, olds, news) {
    return (await loadLifecycle()).diff(id, olds, news);
  },
  async create(inputs) {
    return (await loadLifecycle()).create(inputs);
  },
  async read(id, props) {
    return (await loadLifecycle()).read(id, props);
  },
  async update(id, olds, news) {
    return (await loadLifecycle()).update(id, olds, news);
  },
  async delete(id, props) {
    return (await loadLifecycle()).delete(id, props);
  },
};
