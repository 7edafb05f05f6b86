import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { repoRoot } from './processes';

type Unary = (request: unknown, metadata: grpc.Metadata, callback: (err: grpc.ServiceError | null, res: unknown) => void) => void;

export type V2Method = 'ServerLive' | 'ServerReady' | 'ServerMetadata' | 'ModelReady' | 'ModelMetadata' | 'ModelInfer';
/** `inference.GRPCInferenceService`'s methods on a generic client. */
export type V2GrpcClient = grpc.Client & Record<V2Method, Unary>;

/** The published KServe V2 proto that serving implements. */
export const v2ProtoFile = join(repoRoot, 'services/serving/proto/grpc_predict_v2.proto');

/**
 * A V2 client as an outside user builds it (Triton's and KServe's clients work
 * the same way): @grpc/proto-loader on the proto file, nothing from serving's code.
 */
export function v2GrpcClient(address: string, channelOptions?: grpc.ChannelOptions): V2GrpcClient {
  const definition = protoLoader.loadSync(v2ProtoFile, { keepCase: true, longs: Number, defaults: true });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as { inference: { GRPCInferenceService: grpc.ServiceClientConstructor } };
  return new pkg.inference.GRPCInferenceService(address, grpc.credentials.createInsecure(), channelOptions) as unknown as V2GrpcClient;
}

/** One unary call; `key` goes in the `x-api-key` metadata. */
export function v2GrpcCall<T = unknown>(client: V2GrpcClient, method: V2Method, request: unknown, key?: string): Promise<T> {
  const metadata = new grpc.Metadata();
  if (key !== undefined) metadata.set('x-api-key', key);
  return new Promise((resolve, reject) => client[method](request, metadata, (err, res) => (err ? reject(err) : resolve(res as T))));
}

/**
 * Channel options for a client that starts before its server: reconnect within
 * 100 ms (grpc-js backs off up to 2 min by default and fails calls at once
 * meanwhile), and each call waits up to 1 s for a connection instead of failing.
 */
export const eagerReconnect: grpc.ChannelOptions = {
  'grpc.initial_reconnect_backoff_ms': 50,
  'grpc.max_reconnect_backoff_ms': 100,
  'grpc.service_config': JSON.stringify({ methodConfig: [{ name: [{ service: 'inference.GRPCInferenceService' }], waitForReady: true, timeout: '1s' }] }),
};
