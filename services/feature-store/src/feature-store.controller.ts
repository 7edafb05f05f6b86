import type { IncomingMessage } from 'node:http';
import { Body, Controller, Get, HttpCode, Inject, Param, Post, Put, Query, Req, Res } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { z } from 'zod';
import type { ArtifactStore } from '@mlp/artifacts';
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
import { ARTIFACT_STORE, commandMetadata, readText, RequireScopes, sendArtifact, ZodBody } from '@mlp/service-kit';
import { FeatureViewsService } from './views/feature-views.service';
import { MaterializationService } from './materialization/materialization.service';
import { OnlineFeaturesService } from './retrieval/online-features.service';
import { TrainingSetsService } from './retrieval/training-sets.service';
import { checkSkewSchema, SkewCheckService } from './retrieval/skew-check.service';

const viewName = (name: string) => parseOrThrow(getRegisteredModelSchema, { name }, 'path').name;
const trainingSetId = (id: string) => parseOrThrow(z.object({ id: z.string().uuid('expected a training set id (uuid)') }), { id }, 'path').id;

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
    @Inject(ARTIFACT_STORE) private readonly artifacts: ArtifactStore,
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
  @RequireScopes('read')
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
  @RequireScopes('read')
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

  @Get('training-sets/:id')
  @ApiOperation({ summary: 'A built training set: artifact key, sha256, rows, columns and inputs' })
  getTrainingSet(@Param('id') id: string) {
    return this.trainingSets.get(trainingSetId(id));
  }

  @Get('training-sets/:id/artifact')
  @ApiOperation({ summary: 'Download a training set (Parquet, streamed with content-length and x-content-sha256)' })
  async downloadTrainingSet(@Param('id') id: string, @Res() res: Response) {
    const set = await this.trainingSets.get(trainingSetId(id));
    await sendArtifact(res, this.artifacts, set.artifactKey, { contentType: 'application/vnd.apache.parquet', filename: `training-set-${set.trainingSetId}.parquet` });
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
