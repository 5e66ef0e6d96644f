// A small stand-in for the Pulumi engine, for the demo and the bench: it captures the `__provider`
// text the SDK serializes for a MailServer (a program run under pulumi.runtime.setMocks), starts
// @pulumi/pulumi's own dynamic provider host, reads the port from its first stdout line and its
// later output (what the engine passes through), and calls the ResourceProvider service over gRPC.
// The tests use the TypeScript twin in test/helpers/provider-host.ts.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const pulumiRequire = createRequire(require.resolve("@pulumi/pulumi/package.json"));
const grpc = pulumiRequire("@grpc/grpc-js");
const providerGrpc = pulumiRequire("./proto/provider_grpc_pb.js");
const providerProto = pulumiRequire("./proto/provider_pb.js");
const engineGrpc = pulumiRequire("./proto/engine_grpc_pb.js");
const engineProto = pulumiRequire("./proto/engine_pb.js");
const emptyProto = pulumiRequire("google-protobuf/google/protobuf/empty_pb.js");
const structProto = pulumiRequire("google-protobuf/google/protobuf/struct_pb.js");
const HOST_ENTRY = pulumiRequire.resolve("./cmd/dynamic-provider/index.js");
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** Registers resources under mocks and returns what the engine would receive, secrets unwrapped. */
export async function captureRegistrations(program) {
  const pulumi = await import("@pulumi/pulumi");
  const captured = [];
  pulumi.runtime.setMocks(
    {
      newResource(args) {
        captured.push({ type: args.type, name: args.name, inputs: args.inputs });
        return { id: args.name, state: args.inputs };
      },
      call: (args) => args.inputs,
    },
    "mailserver-demo",
    "dev",
    false,
  );
  const resources = await program(pulumi);
  await Promise.all(resources.map((resource) => new Promise((resolve) => resource.urn.apply(resolve))));
  await new Promise((resolve) => setTimeout(resolve, 20));
  return captured.map((entry) => ({
    ...entry,
    inputs: Object.fromEntries(
      Object.entries(entry.inputs).map(([key, value]) => [key, value?.[SECRET_SIG] ? value.value : value]),
    ),
  }));
}

export async function startEngine() {
  const server = new grpc.Server();
  server.addService(engineGrpc.EngineService, {
    log: (_call, callback) => callback(null, new emptyProto.Empty()),
    getRootResource: (_call, callback) => callback(null, new engineProto.GetRootResourceResponse()),
    setRootResource: (_call, callback) => callback(null, new engineProto.SetRootResourceResponse()),
    startDebugging: (_call, callback) => callback(null, new emptyProto.Empty()),
    requirePulumiVersion: (_call, callback) => callback(null, new engineProto.RequirePulumiVersionResponse()),
  });
  const port = await new Promise((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return { address: `127.0.0.1:${port}`, close: () => new Promise((resolve) => server.tryShutdown(resolve)) };
}

/** Starts the provider host; `onOutput` receives what it prints after its port line. */
export async function startProviderHost({ engineAddress, cwd, env = {}, onOutput = () => {} }) {
  const child = spawn(process.execPath, [HOST_ENTRY, engineAddress], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const port = await new Promise((resolve, reject) => {
    let buffer = "";
    let seen = false;
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stdout.on("data", (chunk) => {
      if (seen) return onOutput(chunk);
      buffer += chunk;
      const newline = buffer.indexOf("\n");
      if (newline < 0) return;
      seen = true;
      resolve(Number(buffer.slice(0, newline).trim()));
      if (buffer.length > newline + 1) onOutput(buffer.slice(newline + 1));
    });
    child.stderr.on("data", (chunk) => onOutput(chunk));
    child.once("exit", (code) => reject(new Error(`provider host exited with ${code}`)));
  });
  const client = new providerGrpc.ResourceProviderClient(
    `127.0.0.1:${port}`,
    grpc.credentials.createInsecure(),
  );
  const call = (method, request) =>
    new Promise((resolve, reject) =>
      client[method](request, (error, response) =>
        error ? reject(new Error(error.details || error.message)) : resolve(response),
      ),
    );
  const struct = (value) => structProto.Struct.fromJavaScript(value);
  const request = (Type, fields) => {
    const message = new Type();
    for (const [setter, value] of Object.entries(fields)) message[setter](value);
    return message;
  };
  return {
    pid: child.pid,
    configure: () =>
      call(
        "configure",
        request(providerProto.ConfigureRequest, { setArgs: struct({}), setAcceptsecrets: true }),
      ),
    async check(urn, olds, news) {
      const response = await call(
        "check",
        request(providerProto.CheckRequest, { setUrn: urn, setOlds: struct(olds), setNews: struct(news) }),
      );
      return {
        inputs: response.getInputs()?.toJavaScript() ?? {},
        failures: response
          .getFailuresList()
          .map((f) => ({ property: f.getProperty(), reason: f.getReason() })),
      };
    },
    async diff(urn, id, olds, news) {
      const response = await call(
        "diff",
        request(providerProto.DiffRequest, {
          setUrn: urn,
          setId: id,
          setOlds: struct(olds),
          setNews: struct(news),
        }),
      );
      return {
        changes: response.getChanges() === providerProto.DiffResponse.DiffChanges.DIFF_SOME,
        replaces: response.getReplacesList(),
      };
    },
    async create(urn, props) {
      const response = await call(
        "create",
        request(providerProto.CreateRequest, { setUrn: urn, setProperties: struct(props) }),
      );
      return { id: response.getId(), properties: response.getProperties()?.toJavaScript() ?? {} };
    },
    async read(urn, id, props) {
      const response = await call(
        "read",
        request(providerProto.ReadRequest, { setUrn: urn, setId: id, setProperties: struct(props) }),
      );
      return {
        properties: response.getProperties()?.toJavaScript() ?? {},
        inputs: response.getInputs()?.toJavaScript(),
      };
    },
    async update(urn, id, olds, news) {
      const response = await call(
        "update",
        request(providerProto.UpdateRequest, {
          setUrn: urn,
          setId: id,
          setOlds: struct(olds),
          setNews: struct(news),
        }),
      );
      return { properties: response.getProperties()?.toJavaScript() ?? {} };
    },
    delete: (urn, id, props) =>
      call(
        "delete",
        request(providerProto.DeleteRequest, { setUrn: urn, setId: id, setProperties: struct(props) }),
      ),
    async close() {
      client.close();
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

export const urnOf = (name) =>
  `urn:pulumi:dev::mailserver-demo::pulumi-nodejs:dynamic/mailserver:MailServer::${name}`;
