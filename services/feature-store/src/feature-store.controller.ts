import type { IncomingMessage } from 'node:http';
import { Body, Controller, Get, HttpCode, Param, Post, Put, Query, Req } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import {
  getRegisteredModelSchema,
  materializeSchema,
  NotFoundError,
  onlineFeaturesRequestSchema,
  parseOrThrow,
  subjects,
  trainingSetRequestSchema,
  type RpcRequest,
} from '@mlp/contracts';
import { commandMetadata, readText, ZodBody } from '@mlp/service-kit';
import { FeatureViewsService } from './views/feature-views.service';
import { MaterializationService } from './materialization/materialization.service';
import { OnlineFeaturesService } from './retrieval/online-features.service';
import { TrainingSetsService } from './retrieval/training-sets.service';
import { checkSkewSchema, SkewCheckService } from './retrieval/skew-check.service';

const viewName = (name: string) => parseOrThrow(getRegisteredModelSchema, { name }, 'path').name;

/** Feature views, materialization, online and offline retrieval, over HTTP and NATS. */
@ApiTags('feature store')
@Controller()
export class FeatureStoreController {
  constructor(
    private readonly views: FeatureViewsService,
    private readonly materializations: MaterializationService,
    private readonly online: OnlineFeaturesService,
    private readonly trainingSets: TrainingSetsService,
    private readonly skew: SkewCheckService,
  ) {}

  @Put('feature-views')
  @ApiOperation({ summary: 'Apply a feature views YAML (text/yaml body): ?force=true overrides the breaking-change guard' })
  async apply(@Req() req: IncomingMessage, @Query('force') force?: string) {
    return { applied: await this.views.applyYaml(await readText(req), commandMetadata(), force === 'true') };
  }

  @Get('feature-views')
  @ApiOperation({ summary: 'List feature views with their latest materialization' })
  list() {
    return { featureViews: this.views.list() };
  }

  @Get('feature-views/:name')
  @ApiOperation({ summary: 'A feature view: versions and materializations' })
  get(@Param('name') name: string) {
    return this.views.require(viewName(name)).state;
  }

  @Post('feature-views/:name/materialize')
  @HttpCode(200)
  @ApiOperation({ summary: 'Materialize now (latest accepted dataset version, or {datasetVersion})' })
  async materialize(@Param('name') name: string, @Body() body: unknown) {
    const dto = parseOrThrow(materializeSchema, { ...(typeof body === 'object' && body ? body : {}), name: viewName(name) }, 'request');
    return this.materializations.materialize(dto.name, commandMetadata(), dto.datasetVersion);
  }

  @Post('feature-views/:name/check-skew')
  @HttpCode(200)
  @ApiOperation({ summary: 'Compare online values with the offline table at the same event time, for a sample of entities ({sample?, tolerance?})' })
  @ZodBody(checkSkewSchema)
  checkSkew(@Param('name') name: string, @Body() body: unknown) {
    return this.skew.checkSkew(viewName(name), parseOrThrow(checkSkewSchema, typeof body === 'object' && body ? body : {}, 'request'));
  }

  @Get('feature-views/:name/versions/:version/lineage')
  @ApiOperation({ summary: 'Source dataset versions and materializations of one view version' })
  lineage(@Param('name') name: string, @Param('version') version: string) {
    const { state } = this.views.require(viewName(name));
    const v = Number(version);
    const def = state.status === 'Defined' ? state.versions.find((x) => x.version === v) : undefined;
    if (!def || state.status !== 'Defined') throw new NotFoundError(`feature view '${name}' has no version ${version}`, { code: 'VERSION_NOT_FOUND' });
    const materializations = state.materializations.filter((m) => m.version === v);
    return {
      view: name,
      version: v,
      source: def.source,
      datasetVersions: [...new Set(materializations.flatMap((m) => m.datasetVersions))].sort((a, b) => a - b).map((dv) => ({ dataset: def.source.dataset, version: dv })),
      materializations,
    };
  }

  @Post('features/online')
  @HttpCode(200)
  @ApiOperation({ summary: 'Online features for many entities' })
  @ZodBody(onlineFeaturesRequestSchema)
  getOnline(@Body() body: unknown) {
    return this.online.get(parseOrThrow(onlineFeaturesRequestSchema, body, 'request'));
  }

  @Post('training-sets')
  @HttpCode(201)
  @ApiOperation({ summary: 'Build a point-in-time training set' })
  @ZodBody(trainingSetRequestSchema)
  buildTrainingSet(@Body() body: unknown) {
    return this.trainingSets.build(parseOrThrow(trainingSetRequestSchema, body, 'request'), commandMetadata());
  }

  @MessagePattern(subjects.qry.featureStore.getOnlineFeatures)
  getOnlineRpc(@Payload() request: RpcRequest) {
    return this.online.get(parseOrThrow(onlineFeaturesRequestSchema, request?.payload, 'payload'));
  }

  @MessagePattern(subjects.qry.featureStore.listFeatureViews)
  listRpc() {
    return { featureViews: this.views.list() };
  }

  @MessagePattern(subjects.cmd.featureStore.applyFeatureViews)
  applyRpc(@Payload() request: RpcRequest) {
    const p = parseOrThrow(z.object({ yaml: z.string().min(1), force: z.boolean().default(false) }), request?.payload, 'payload');
    return this.views.applyYaml(p.yaml, commandMetadata(), p.force);
  }

  @MessagePattern(subjects.cmd.featureStore.materialize)
  materializeRpc(@Payload() request: RpcRequest) {
    const dto = parseOrThrow(materializeSchema, request?.payload, 'payload');
    return this.materializations.materialize(dto.name, commandMetadata(), dto.datasetVersion);
  }

  @MessagePattern(subjects.cmd.featureStore.buildTrainingSet)
  trainingSetRpc(@Payload() request: RpcRequest) {
    return this.trainingSets.build(parseOrThrow(trainingSetRequestSchema, request?.payload, 'payload'), commandMetadata());
  }
}
