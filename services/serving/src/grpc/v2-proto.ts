import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const FILE = 'grpc_predict_v2.proto';

/** The proto file: next to the sources (services/serving/proto), from a dist build, or from the repo root. */
export function v2ProtoPath(): string {
  const candidates = [join(__dirname, '../../proto', FILE), join(__dirname, '../../../../../services/serving/proto', FILE), join(process.cwd(), 'services/serving/proto', FILE)];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`cannot find ${FILE} (looked in ${candidates.join(', ')})`);
  return found;
}

/** Loader options: field names as in the proto, int64 as JS numbers, defaults filled in, oneof names set. */
export const V2_LOADER_OPTIONS: protoLoader.Options = { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true };

/** `inference.GRPCInferenceService` as @grpc/proto-loader builds it from the proto (server and clients alike). */
export function loadV2Service(): grpc.ServiceClientConstructor {
  const definition = protoLoader.loadSync(v2ProtoPath(), V2_LOADER_OPTIONS);
  const pkg = grpc.loadPackageDefinition(definition) as unknown as { inference: { GRPCInferenceService: grpc.ServiceClientConstructor } };
  return pkg.inference.GRPCInferenceService;
}

/** Messages as proto-loader decodes them (keepCase, longs as numbers, defaults). */
export interface InferTensorContents {
  bool_contents: boolean[];
  int_contents: number[];
  int64_contents: number[];
  uint_contents: number[];
  uint64_contents: number[];
  fp32_contents: number[];
  fp64_contents: number[];
  bytes_contents: Buffer[];
}

export interface InferParameter {
  bool_param?: boolean;
  int64_param?: number;
  string_param?: string;
  parameter_choice?: string;
}

export interface ModelInferRequest {
  model_name: string;
  model_version: string;
  id: string;
  parameters: Record<string, InferParameter>;
  inputs: { name: string; datatype: string; shape: number[]; parameters: Record<string, InferParameter>; contents: InferTensorContents | null }[];
  outputs: { name: string }[];
  raw_input_contents: Buffer[];
}

export interface ModelInferResponse {
  model_name: string;
  model_version: string;
  id: string;
  outputs: { name: string; datatype: string; shape: number[]; contents: Partial<InferTensorContents> }[];
}
