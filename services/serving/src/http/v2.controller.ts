import type { IncomingMessage } from 'node:http';
import { Body, Controller, Get, HttpCode, Inject, Param, Post, Req, UseFilters, UseGuards } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { InfrastructureError } from '@mlp/contracts';
import { Public, RequireScopes, SERVICE_LOGGER, type Logger } from '@mlp/service-kit';
import { invalidInput } from '../inference/input-schema';
import { flattenData, inputMetadata, outputMetadata, outputTensors, type DecodedTensor, type V2OutputTensor, type V2TensorMetadata } from '../inference/v2-codec';
import { ServingRuntime } from '../serving-runtime';
import { RateLimitGuard } from './rate-limit.guard';
import { keyIdOf, modelRefOf, requestIdOf, versionOf } from './request-meta';
import { ServingExceptionFilter } from './serving-exception.filter';

export interface V2ModelMetadata {
  name: string;
  versions: string[];
  platform: string;
  inputs: V2TensorMetadata[];
  outputs: V2TensorMetadata[];
}

export interface V2InferResponse {
  model_name: string;
  model_version: string;
  id: string;
  parameters?: Record<string, unknown>;
  outputs: V2OutputTensor[];
}

const SERVER = { name: 'mlp-serving', version: '1', extensions: [] as string[] };
export const V2_PLATFORM = 'tensorflowjs_layers';

const inferExample = {
  id: 'req-42',
  inputs: [
    { name: 'bill_length_mm', shape: [2], datatype: 'FP64', data: [39.1, 46.5] },
    { name: 'island', shape: [2], datatype: 'BYTES', data: ['Torgersen', 'Biscoe'] },
  ],
};
const inferResponseExample = {
  model_name: 'penguins',
  model_version: '3',
  id: 'req-42',
  outputs: [
    { name: 'species', shape: [2], datatype: 'BYTES', data: ['Adelie', 'Gentoo'] },
    { name: 'probabilities', shape: [2, 3], datatype: 'FP32', data: [0.97, 0.02, 0.01, 0.03, 0.01, 0.96] },
  ],
};

/**
 * The Open Inference Protocol (KServe V2) over REST. `{m}` is a model name
 * (its `production` alias, else its only served alias), `name@alias` or
 * `name:version`; `model_version` is the registry's version number.
 */
@ApiTags('inference (Open Inference Protocol v2)')
@Controller('v2')
@UseFilters(ServingExceptionFilter)
export class V2Controller {
  constructor(
    private readonly runtime: ServingRuntime,
    @Inject(SERVICE_LOGGER) readonly logger: Logger,
  ) {}

  @Get()
  @RequireScopes(['predict', 'read'])
  @ApiOperation({ summary: 'Server metadata' })
  @ApiOkResponse({ schema: { example: SERVER } })
  server() {
    return SERVER;
  }

  @Get('health/live')
  @Public()
  @ApiOperation({ summary: 'Server liveness' })
  live() {
    return { live: true };
  }

  @Get('health/ready')
  @Public()
  @ApiOperation({ summary: 'Server readiness: the model log is read and every served alias has a loaded version (503 until then)' })
  ready() {
    const ready = this.runtime.models.isReady();
    if (!ready) throw new InfrastructureError('serving is still reading the model log and loading versions', { code: 'NOT_READY' });
    return { ready };
  }

  @Get('models/:m')
  @RequireScopes(['predict', 'read'])
  @ApiOperation({ summary: 'Model metadata: inputs and outputs from the version signature' })
  @ApiOkResponse({ schema: { example: { name: 'penguins@production', versions: ['3'], platform: V2_PLATFORM, inputs: [{ name: 'island', datatype: 'BYTES', shape: [-1] }], outputs: [{ name: 'species', datatype: 'BYTES', shape: [-1] }] } } })
  metadata(@Param('m') m: string): V2ModelMetadata {
    return this.describe(m);
  }

  @Get('models/:m/versions/:v')
  @RequireScopes(['predict', 'read'])
  @ApiOperation({ summary: 'Model version metadata' })
  versionMetadata(@Param('m') m: string, @Param('v') v: string): V2ModelMetadata {
    return this.describe(m, v);
  }

  @Get('models/:m/ready')
  @RequireScopes(['predict', 'read'])
  @ApiOperation({ summary: 'Model readiness (404 when not served)' })
  modelReady(@Param('m') m: string) {
    const { served } = this.runtime.models.resolve(modelRefOf(m));
    return { name: m, ready: !served.retiring };
  }

  @Get('models/:m/versions/:v/ready')
  @RequireScopes(['predict', 'read'])
  @ApiOperation({ summary: 'Model version readiness' })
  versionReady(@Param('m') m: string, @Param('v') v: string) {
    const { served } = this.runtime.models.resolve(modelRefOf(m), versionOf(v));
    return { name: m, version: String(served.loaded.version), ready: !served.retiring };
  }

  @Post('models/:m/infer')
  @HttpCode(200)
  @RequireScopes('predict')
  @UseGuards(RateLimitGuard)
  @ApiOperation({ summary: 'Inference: one tensor per feature, or one [N, F] tensor (row-major)' })
  @ApiBody({ schema: { type: 'object', example: inferExample } })
  @ApiOkResponse({ schema: { example: inferResponseExample } })
  infer(@Param('m') m: string, @Body() body: unknown, @Req() req: IncomingMessage): Promise<V2InferResponse> {
    return this.doInfer(m, undefined, body, req);
  }

  @Post('models/:m/versions/:v/infer')
  @HttpCode(200)
  @RequireScopes('predict')
  @UseGuards(RateLimitGuard)
  @ApiOperation({ summary: 'Inference on a given version' })
  @ApiBody({ schema: { type: 'object', example: inferExample } })
  @ApiOkResponse({ schema: { example: inferResponseExample } })
  inferVersion(@Param('m') m: string, @Param('v') v: string, @Body() body: unknown, @Req() req: IncomingMessage): Promise<V2InferResponse> {
    return this.doInfer(m, v, body, req);
  }

  private describe(m: string, v?: string): V2ModelMetadata {
    const ref = modelRefOf(m);
    const { served } = this.runtime.models.resolve(ref, versionOf(v));
    const loaded = served.loaded;
    return { name: m, versions: [String(loaded.version)], platform: V2_PLATFORM, inputs: inputMetadata(loaded.inputSchema), outputs: outputMetadata(loaded) };
  }

  private async doInfer(m: string, v: string | undefined, body: unknown, req: IncomingMessage): Promise<V2InferResponse> {
    const request = parseInferRequest(body);
    const ref = modelRefOf(m);
    const result = await this.runtime.inference.predictTensors(ref, versionOf(v), request.inputs, {
      protocol: 'rest-v2',
      requestId: requestIdOf(req, request.id),
      keyId: keyIdOf(req),
      timeoutMs: request.timeoutMs,
    });
    return {
      model_name: m,
      model_version: String(result.loaded.version),
      id: result.requestId,
      outputs: outputTensors(result.loaded, result.outputs, result.n, request.outputs),
    };
  }
}

/** The JSON body of an infer request: `{id?, parameters?, inputs: [{name, shape, datatype, data}], outputs?: [{name}]}`. */
export function parseInferRequest(body: unknown): { id?: string; inputs: DecodedTensor[]; outputs?: string[]; timeoutMs?: number } {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw invalidInput([{ path: '', message: 'the body must be a JSON object {inputs: [...]}' }]);
  const b = body as { id?: unknown; inputs?: unknown; outputs?: unknown; parameters?: unknown };
  if (!Array.isArray(b.inputs) || b.inputs.length === 0) throw invalidInput([{ path: 'inputs', message: 'an array of at least one tensor {name, shape, datatype, data} is needed' }]);
  const inputs = b.inputs.map((t: unknown, i: number): DecodedTensor => {
    if (t === null || typeof t !== 'object') throw invalidInput([{ path: `inputs[${i}]`, message: 'must be a tensor {name, shape, datatype, data}' }]);
    const x = t as { name?: unknown; shape?: unknown; datatype?: unknown; data?: unknown };
    const data = flattenData(x.data);
    if (!data) throw invalidInput([{ path: `inputs[${i}].data`, message: 'must be an array (flat row-major, or nested)' }]);
    return { name: x.name as string, shape: x.shape as number[], datatype: x.datatype as string, data };
  });
  let outputs: string[] | undefined;
  if (b.outputs !== undefined) {
    if (!Array.isArray(b.outputs) || b.outputs.some((o) => typeof (o as { name?: unknown })?.name !== 'string')) {
      throw invalidInput([{ path: 'outputs', message: 'an array of {name} is needed' }]);
    }
    outputs = b.outputs.map((o) => (o as { name: string }).name);
  }
  const params = (b.parameters ?? {}) as { timeout_ms?: unknown };
  const timeoutMs = typeof params.timeout_ms === 'number' && params.timeout_ms > 0 ? params.timeout_ms : undefined;
  return { ...(typeof b.id === 'string' ? { id: b.id } : {}), inputs, ...(outputs ? { outputs } : {}), ...(timeoutMs ? { timeoutMs } : {}) };
}
