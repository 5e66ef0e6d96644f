/**
 * Drives `@pulumi/pulumi`'s own dynamic provider host as the Pulumi engine does: start
 * `cmd/dynamic-provider` with the engine's address, read the gRPC port from the first line of its
 * stdout, keep reading its later output (what the engine passes through as the resource's
 * diagnostics), and call the ResourceProvider service over gRPC. The Pulumi engine's stand-in for
 * the tests, `npm run demo` and bench/provider.bench.mjs (one implementation, compiled to dist/sandbox).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import type { ServiceError } from "@grpc/grpc-js";
import { grpc } from "./engine-server.js";

const pulumiPackageJson = createRequire(import.meta.url).resolve("@pulumi/pulumi/package.json");
const pulumiRequire = createRequire(pulumiPackageJson);
const providerGrpc = pulumiRequire("./proto/provider_grpc_pb.js");
const providerProto = pulumiRequire("./proto/provider_pb.js");
const structProto = pulumiRequire("google-protobuf/google/protobuf/struct_pb.js");
const statusProto = pulumiRequire("./proto/status_pb.js");
export const HOST_ENTRY = pulumiRequire.resolve("./cmd/dynamic-provider/index.js");

/** The engine's marker for a value not known during preview. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
export const TYPE_TOKEN = "pulumi-nodejs:dynamic/mailserver:MailServer";

// biome-ignore lint/suspicious/noExplicitAny: protobuf-generated messages are untyped here.
type Message = any;
type Props = Record<string, unknown>;

export interface StartProviderHostOptions {
  /** Engine address (see startEngineServer). */
  engineAddress: string;
  /** The project directory: the engine runs plugins there. */
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** Node options for the host, e.g. a preload. */
  execArgv?: string[];
  /** Called with each piece of output after the port line, as it arrives (the demo shows it live). */
  onOutput?: (text: string) => void;
}

export interface DiffReply {
  changes: "none" | "some" | "unknown";
  replaces: string[];
  deleteBeforeReplace: boolean;
}

export interface ProviderHost {
  port: number;
  pid: number;
  /** Everything the host wrote after its port line (stdout and stderr, interleaved). */
  output(): string;
  /** Resolves with the output once `pattern` appears in it. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  configure(args?: Props): Promise<void>;
  check(
    urn: string,
    olds: Props,
    news: Props,
  ): Promise<{ inputs: Props; failures: { property: string; reason: string }[] }>;
  diff(urn: string, id: string, olds: Props, news: Props): Promise<DiffReply>;
  create(urn: string, props: Props, preview?: boolean): Promise<{ id: string; properties: Props }>;
  read(
    urn: string,
    id: string,
    props: Props,
    inputs?: Props,
  ): Promise<{ id: string; properties: Props; inputs?: Props }>;
  update(
    urn: string,
    id: string,
    olds: Props,
    news: Props,
    preview?: boolean,
  ): Promise<{ properties: Props }>;
  delete(urn: string, id: string, props: Props): Promise<void>;
  close(): Promise<void>;
}

/** The URN the engine gives a MailServer named `name` in `project`'s `stack`. */
export function urnOf(name: string, stack = "dev", project = "mailserver-test"): string {
  return `urn:pulumi:${stack}::${project}::${TYPE_TOKEN}::${name}`;
}

/** Starts the host in `cwd` against `engineAddress` and connects a ResourceProvider client to it. */
export async function startProviderHost(options: StartProviderHostOptions): Promise<ProviderHost> {
  const child = spawn(process.execPath, [...(options.execArgv ?? []), HOST_ENTRY, options.engineAddress], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  let stdoutBuffer = "";
  const waiters = new Set<() => void>();
  const notify = (text: string) => {
    if (text) options.onOutput?.(text);
    for (const waiter of waiters) waiter();
  };
  const port = await new Promise<number>((resolve, reject) => {
    let portSeen = false;
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      if (portSeen) {
        output += chunk;
        notify(chunk);
        return;
      }
      // As the engine does: the first line of stdout is the port; everything after it is output.
      stdoutBuffer += chunk;
      const newline = stdoutBuffer.indexOf("\n");
      if (newline < 0) return;
      portSeen = true;
      const line = stdoutBuffer.slice(0, newline).trim();
      const rest = stdoutBuffer.slice(newline + 1);
      output += rest;
      notify(rest);
      const parsed = Number(line);
      if (Number.isInteger(parsed) && parsed > 0) resolve(parsed);
      else reject(new Error(`provider host printed ${JSON.stringify(line)} instead of a port`));
    });
    child.stderr.on("data", (chunk: string) => {
      output += chunk;
      notify(chunk);
    });
    child.once("exit", (code) =>
      reject(new Error(`provider host exited with ${code} before its port line: ${output}`)),
    );
    child.once("error", reject);
  });
  const client = new providerGrpc.ResourceProviderClient(
    `127.0.0.1:${port}`,
    grpc.credentials.createInsecure(),
  );

  const unary = (method: string, request: Message) =>
    new Promise<Message>((resolve, reject) => {
      client[method](request, (error: ServiceError | null, response: Message) => {
        if (error)
          reject(
            new ProviderCallError(method, error.details || error.message, error.code, initFailureOf(error)),
          );
        else resolve(response);
      });
    });
  const struct = (value: Props) => structProto.Struct.fromJavaScript(value);

  return {
    port,
    pid: child.pid ?? -1,
    output: () => output,
    waitForOutput(pattern, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const attempt = () => {
          const match = output.match(pattern);
          if (!match) return false;
          waiters.delete(attempt);
          clearTimeout(timer);
          resolve(match);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(attempt);
          reject(new Error(`no ${pattern} in the host's output after ${timeoutMs} ms: ${output}`));
        }, timeoutMs);
        if (!attempt()) waiters.add(attempt);
      });
    },
    async configure(args = {}) {
      const request = new providerProto.ConfigureRequest();
      request.setArgs(struct(args));
      request.setAcceptsecrets(true);
      request.setAcceptresources(true);
      await unary("configure", request);
    },
    async check(urn, olds, news) {
      const request = new providerProto.CheckRequest();
      request.setUrn(urn);
      request.setOlds(struct(olds));
      request.setNews(struct(news));
      const response = await unary("check", request);
      return {
        inputs: response.getInputs()?.toJavaScript() ?? {},
        failures: response
          .getFailuresList()
          .map((failure: Message) => ({ property: failure.getProperty(), reason: failure.getReason() })),
      };
    },
    async diff(urn, id, olds, news) {
      const request = new providerProto.DiffRequest();
      request.setUrn(urn);
      request.setId(id);
      request.setOlds(struct(olds));
      request.setNews(struct(news));
      const response = await unary("diff", request);
      const kinds = providerProto.DiffResponse.DiffChanges;
      const changes = response.getChanges();
      return {
        changes: changes === kinds.DIFF_SOME ? "some" : changes === kinds.DIFF_NONE ? "none" : "unknown",
        replaces: response.getReplacesList(),
        deleteBeforeReplace: response.getDeletebeforereplace(),
      };
    },
    async create(urn, props, preview = false) {
      const request = new providerProto.CreateRequest();
      request.setUrn(urn);
      request.setProperties(struct(props));
      request.setPreview(preview);
      const response = await unary("create", request);
      return { id: response.getId(), properties: response.getProperties()?.toJavaScript() ?? {} };
    },
    async read(urn, id, props, inputs) {
      const request = new providerProto.ReadRequest();
      request.setUrn(urn);
      request.setId(id);
      request.setProperties(struct(props));
      if (inputs) request.setInputs(struct(inputs));
      const response = await unary("read", request);
      const readInputs = response.getInputs()?.toJavaScript();
      return {
        id: response.getId(),
        properties: response.getProperties()?.toJavaScript() ?? {},
        ...(readInputs && { inputs: readInputs }),
      };
    },
    async update(urn, id, olds, news, preview = false) {
      const request = new providerProto.UpdateRequest();
      request.setUrn(urn);
      request.setId(id);
      request.setOlds(struct(olds));
      request.setNews(struct(news));
      request.setPreview(preview);
      const response = await unary("update", request);
      return { properties: response.getProperties()?.toJavaScript() ?? {} };
    },
    async delete(urn, id, props) {
      const request = new providerProto.DeleteRequest();
      request.setUrn(urn);
      request.setId(id);
      request.setProperties(struct(props));
      await unary("delete", request);
    },
    close: () => stopHost(child, client),
  };
}

/** A gRPC call the host answered with an error: `message` is what the engine would show. */
export class ProviderCallError extends Error {
  constructor(
    readonly method: string,
    message: string,
    readonly grpcCode: number,
    /** ErrorResourceInitFailed: the engine saves these properties as the resource's state. */
    readonly initFailure?: { id: string; properties: Props; reasons: string[] },
  ) {
    super(message);
    this.name = "ProviderCallError";
  }
}

async function stopHost(child: ChildProcess, client: { close(): void }): Promise<void> {
  client.close();
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  // The engine kills its plugins when it is done; so do we (this PID only).
  child.kill("SIGTERM");
  await exited;
}

/** Decodes `grpc-status-details-bin` as the engine does: a Status whose details hold ErrorResourceInitFailed. */
function initFailureOf(error: ServiceError): ProviderCallError["initFailure"] {
  const raw = error.metadata?.get("grpc-status-details-bin")[0];
  if (!raw) return undefined;
  const status = statusProto.Status.deserializeBinary(new Uint8Array(raw as Buffer));
  for (const detail of status.getDetailsList() as Message[]) {
    if (!String(detail.getTypeUrl()).endsWith("pulumirpc.ErrorResourceInitFailed")) continue;
    const failed = providerProto.ErrorResourceInitFailed.deserializeBinary(detail.getValue_asU8());
    return {
      id: failed.getId(),
      properties: failed.getProperties()?.toJavaScript() ?? {},
      reasons: failed.getReasonsList(),
    };
  }
  return undefined;
}
