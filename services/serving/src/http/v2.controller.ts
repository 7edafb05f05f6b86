import type { IncomingMessage } from 'node:http';
import { Body, Controller, Get, HttpCode, Inject, Param, Post, Req, UseFilters, UseGuards } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { InfrastructureError } from '@mlp/contracts';
import { Public, RequireScopes, SERVICE_LOGGER, type Logger } from '@mlp/service-kit';
import { inputMetadata, outputMetadata, type V2TensorMetadata } from '../inference/v2-codec';
import { v2Infer, type V2InferResponse } from './inference-handlers';
import { ServingRuntime } from '../serving-runtime';
import { RateLimitGuard } from './rate-limit.guard';
import { headerOf, keyIdOf, modelRefOf, versionOf } from './request-meta';
import { ServingExceptionFilter } from './serving-exception.filter';

export interface V2ModelMetadata {
  name: string;
  versions: string[];
  platform: string;
  inputs: V2TensorMetadata[];
  outputs: V2TensorMetadata[];
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
  @ApiOperation({
    summary:
      'Server readiness: 503 NOT_READY (naming what it waits for) until the model log is read and every alias it says is served here has a loaded, warm version, or a recorded load failure (ModelLoadFailed does not hold readiness); the same rule as /health/ready and gRPC ServerReady',
  })
  ready() {
    const { ready, waiting } = this.runtime.models.readiness();
    if (!ready) throw new InfrastructureError(`serving is not ready: waiting for ${waiting.join(', ')}`, { code: 'NOT_READY', details: { waiting } });
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
  @ApiOperation({ summary: 'Model readiness: 200 {ready: true} once a version answers; 503 (NOT_READY, MODEL_LOADING, MODEL_LOAD_FAILED) while the log says it is served but none does; 404 when it is not served here' })
  modelReady(@Param('m') m: string) {
    const { served } = this.runtime.models.resolve(modelRefOf(m));
    return { name: m, ready: !served.retiring };
  }

  @Get('models/:m/versions/:v/ready')
  @RequireScopes(['predict', 'read'])
  @ApiOperation({ summary: 'Model version readiness (the same statuses as model readiness)' })
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
    return v2Infer(this.runtime, m, v, body, { requestIdHeader: headerOf(req, 'x-request-id'), keyId: keyIdOf(req), headers: req.headers });
  }

}

