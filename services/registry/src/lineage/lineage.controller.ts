import { Controller, Get, Inject, Injectable, Optional, Param, Query, Res, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { datasetModelsSchema, lineageQuerySchema, NotFoundError, parseOrThrow, subjects, ValidationError, type RpcRequest } from '@mlp/contracts';
import { ProjectionRunner, type EventStore } from '@mlp/eventstore';
import { EVENT_STORE, ProjectionCatalog } from '@mlp/service-kit';
import { LineageProjection, type LineageGraph } from './lineage.projection';
import { renderLineageTree, toOpenLineage } from './lineage-render';

/** Feeds the lineage projection from the whole log. */
@Injectable()
export class LineageService implements OnModuleInit, OnModuleDestroy {
  readonly projection = new LineageProjection();
  private readonly runner: ProjectionRunner<LineageProjection>;

  constructor(@Inject(EVENT_STORE) store: EventStore, @Optional() @Inject(ProjectionCatalog) catalog?: ProjectionCatalog) {
    this.runner = new ProjectionRunner(store, this.projection);
    catalog?.register(this.runner, () => new LineageProjection());
  }

  onModuleInit(): Promise<void> {
    return this.runner.start();
  }

  onModuleDestroy(): Promise<void> {
    return this.runner.stop();
  }

  graph(name: string, version: number): LineageGraph {
    const graph = this.projection.modelVersionGraph(name, version);
    if (!graph) throw new NotFoundError(`no lineage for ${name} v${version}: no such registered version`, { code: 'VERSION_NOT_FOUND', details: { name, version } });
    return graph;
  }

  modelsTrainedOn(dataset: string, version: number) {
    if (!this.projection.node(`dataset:${dataset}@${version}`)) throw new NotFoundError(`no dataset version ${dataset} v${version}`, { code: 'DATASET_VERSION_NOT_FOUND', details: { dataset, version } });
    return { dataset, version, models: this.projection.modelsTrainedOn(dataset, version).map((m) => ({ name: m.model, version: m.version, runId: m.runId, status: m.status, aliases: m.aliases.filter((a) => a.to === null).map((a) => a.alias) })) };
  }
}

/** `GET /lineage/…`: a model version's graph (JSON, printed tree, OpenLineage run events) and the reverse query. */
@ApiTags('lineage')
@Controller('lineage')
export class LineageController {
  constructor(private readonly lineage: LineageService) {}

  @Get('models/:name/versions/:version')
  @ApiOperation({ summary: 'Lineage graph of a model version (JSON {root, nodes, edges}; ?format=tree for the printed tree, ?format=openlineage for OpenLineage run events)' })
  graph(@Param('name') name: string, @Param('version') version: string, @Query('format') format: string | undefined, @Res() res: Response) {
    const dto = parseOrThrow(lineageQuerySchema, { name, version }, 'path');
    const graph = this.lineage.graph(dto.name, dto.version);
    if (format === undefined || format === 'json') return res.status(200).json(graph);
    if (format === 'tree') return res.status(200).type('text/plain; charset=utf-8').send(renderLineageTree(graph));
    if (format === 'openlineage') return res.status(200).json({ events: toOpenLineage(graph) });
    throw new ValidationError(`invalid format '${format}': use json, tree or openlineage`, [{ path: 'format', message: 'expected json, tree or openlineage' }]);
  }

  @Get('models/:name/versions/:version/openlineage')
  @ApiOperation({ summary: 'The same graph as OpenLineage RunEvents (eventType, eventTime, run, job, inputs, outputs), for Marquez or DataHub' })
  openLineage(@Param('name') name: string, @Param('version') version: string) {
    const dto = parseOrThrow(lineageQuerySchema, { name, version }, 'path');
    return { events: toOpenLineage(this.lineage.graph(dto.name, dto.version)) };
  }

  @Get('datasets/:dataset/versions/:version/models')
  @ApiOperation({ summary: 'Model versions trained on a dataset version (directly, through a training set or a feature view materialization)' })
  models(@Param('dataset') dataset: string, @Param('version') version: string) {
    const dto = parseOrThrow(datasetModelsSchema, { dataset, version }, 'path');
    return this.lineage.modelsTrainedOn(dto.dataset, dto.version);
  }

  @MessagePattern(subjects.qry.registry.modelLineage)
  graphRpc(@Payload() r: RpcRequest) {
    const dto = parseOrThrow(lineageQuerySchema, r?.payload, 'payload');
    return this.lineage.graph(dto.name, dto.version);
  }

  @MessagePattern(subjects.qry.registry.datasetModels)
  modelsRpc(@Payload() r: RpcRequest) {
    const dto = parseOrThrow(datasetModelsSchema, r?.payload, 'payload');
    return this.lineage.modelsTrainedOn(dto.dataset, dto.version);
  }
}
