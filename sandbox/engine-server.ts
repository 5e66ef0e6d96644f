/**
 * A small Engine gRPC server, as the Pulumi CLI runs for its plugins: the dynamic provider host
 * takes its address as first argument. It records `Log` calls so tests can see what a provider
 * sent to the engine (the 3.248 host sends nothing; it writes to its console instead). Used by
 * the tests, `npm run demo` and bench/provider.bench.mjs through sandbox/provider-host.ts.
 */
import { createRequire } from "node:module";

// Load grpc-js and the generated services through @pulumi/pulumi so that both sides use the same
// @grpc/grpc-js instance the generated code was built against.
const pulumiRequire = createRequire(createRequire(import.meta.url).resolve("@pulumi/pulumi/package.json"));
export const grpc = pulumiRequire("@grpc/grpc-js") as typeof import("@grpc/grpc-js");
const engineGrpc = pulumiRequire("./proto/engine_grpc_pb.js");
const engineProto = pulumiRequire("./proto/engine_pb.js");
const emptyProto = pulumiRequire("google-protobuf/google/protobuf/empty_pb.js");

export interface EngineLogEntry {
  severity: number;
  message: string;
  urn: string;
}

export interface EngineServer {
  /** `127.0.0.1:PORT`, the argument the provider host expects. */
  address: string;
  logs: EngineLogEntry[];
  close(): Promise<void>;
}

type Callback = (error: unknown, value?: unknown) => void;
interface Call {
  request: { getSeverity(): number; getMessage(): string; getUrn(): string };
}

/** Binds the Engine service on 127.0.0.1, port 0 (ephemeral). */
export async function startEngineServer(): Promise<EngineServer> {
  const logs: EngineLogEntry[] = [];
  const server = new grpc.Server();
  let root = "";
  const handlers = {
    log(call: Call, callback: Callback) {
      logs.push({
        severity: call.request.getSeverity(),
        message: call.request.getMessage(),
        urn: call.request.getUrn(),
      });
      callback(null, new emptyProto.Empty());
    },
    getRootResource(_call: unknown, callback: Callback) {
      const response = new engineProto.GetRootResourceResponse();
      response.setUrn(root);
      callback(null, response);
    },
    setRootResource(call: { request: { getUrn(): string } }, callback: Callback) {
      root = call.request.getUrn();
      callback(null, new engineProto.SetRootResourceResponse());
    },
    startDebugging(_call: unknown, callback: Callback) {
      callback(null, new emptyProto.Empty());
    },
    requirePulumiVersion(_call: unknown, callback: Callback) {
      callback(null, new engineProto.RequirePulumiVersionResponse());
    },
  };
  server.addService(
    engineGrpc.EngineService,
    handlers as unknown as import("@grpc/grpc-js").UntypedServiceImplementation,
  );
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    );
  });
  return {
    address: `127.0.0.1:${port}`,
    logs,
    close: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
      }),
  };
}
