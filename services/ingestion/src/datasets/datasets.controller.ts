import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IncomingMessage } from 'node:http';
import { Body, Controller, Get, HttpCode, Inject, Param, Post, Put, Query, Req, Res } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { z } from 'zod';
import type { ArtifactStore } from '@mlp/artifacts';
import {
  csvOptionsSchema,
  getDatasetSchema,
  getIngestionSchema,
  inputFormatSchema,
  NotFoundError,
  parseOrThrow,
  registerDatasetSchema,
  startIngestionSchema,
  subjects,
  ValidationError,
  type IngestionOutcome,
  type RpcRequest,
} from '@mlp/contracts';
import { parseDatasetSchema, parseSchemaYaml, schemaToYaml, type DatasetSchema } from '@mlp/data';
import { ARTIFACT_STORE, commandMetadata, sendArtifact, ZodBody } from '@mlp/service-kit';
import { INGESTION_CONFIG, type IngestionConfig } from '../jobs/ingestion-config';
import { IngestionJobsService } from '../jobs/ingestion-jobs.service';
import { readText, saveBody } from '@mlp/service-kit';
import { inferFileSchema } from '../engine/process-file';
import { localFileSource } from '../sources/file-source';
import { DatasetsService } from './datasets.service';
import type { DatasetView } from './datasets.projection';

const uploadQuerySchema = z.object({
  format: inputFormatSchema.optional(),
  filename: z.string().max(255).optional(),
  wait: z.enum(['true', 'false']).default('true'),
  delimiter: csvOptionsSchema.shape.delimiter,
  header: z.enum(['true', 'false']).optional(),
  /** Repeatable: strings read as missing, e.g. ?null=NA&null=n/a */
  null: z.union([z.string().max(20), z.array(z.string().max(20)).max(20)]).optional(),
});

/** CSV options from the upload query, or undefined when none is given. */
function csvFromQuery(q: z.infer<typeof uploadQuerySchema>) {
  const nullValues = q.null === undefined ? undefined : [q.null].flat();
  if (!q.delimiter && !q.header && !nullValues) return undefined;
  return { delimiter: q.delimiter, header: q.header === undefined ? undefined : q.header === 'true', nullValues };
}

/** Datasets, schemas, versions and ingestion jobs over HTTP and NATS. */
@ApiTags('datasets')
@Controller()
export class DatasetsController {
  constructor(
    private readonly datasets: DatasetsService,
    private readonly jobs: IngestionJobsService,
    @Inject(ARTIFACT_STORE) private readonly artifacts: ArtifactStore,
    @Inject(INGESTION_CONFIG) private readonly config: IngestionConfig,
  ) {}

  @Post('datasets')
  @HttpCode(201)
  @ApiOperation({ summary: 'Register a dataset' })
  @ZodBody(registerDatasetSchema)
  register(@Body() body: unknown): Promise<DatasetView> {
    return this.datasets.register(parseOrThrow(registerDatasetSchema, body, 'request'), commandMetadata());
  }

  @Get('datasets')
  @ApiOperation({ summary: 'List datasets with their latest version' })
  list() {
    return { datasets: this.datasets.summaries() };
  }

  @Get('datasets/:name')
  @ApiOperation({ summary: 'A dataset, its schema and all its versions' })
  get(@Param('name') name: string): DatasetView {
    return this.datasets.get(datasetName(name));
  }

  @Put('datasets/:name/schema')
  @ApiOperation({ summary: 'Declare the schema: YAML (text/yaml) or JSON' })
  async declareSchema(@Param('name') name: string, @Req() req: IncomingMessage & { body?: unknown }): Promise<DatasetView> {
    const schema = await schemaFromRequest(req);
    return this.datasets.declareSchema(datasetName(name), schema, commandMetadata());
  }

  @Get('datasets/:name/schema')
  @ApiOperation({ summary: 'The declared schema as YAML' })
  schemaYaml(@Param('name') name: string, @Res() res: Response): void {
    const dataset = this.datasets.get(datasetName(name));
    if (!dataset.schema) throw new NotFoundError(`dataset '${name}' has no declared schema`, { code: 'SCHEMA_NOT_DECLARED' });
    res.type('text/yaml').send(schemaToYaml(parseDatasetSchema(dataset.schema)));
  }

  @Post('datasets/:name/ingestions')
  @ApiOperation({ summary: 'Ingest from a file path, URL or PostgreSQL query' })
  async startIngestion(@Param('name') name: string, @Body() body: unknown, @Res({ passthrough: true }) res: Response) {
    const dto = parseOrThrow(startIngestionSchema, { ...asObject(body), dataset: datasetName(name) }, 'request');
    const { jobId, done } = await this.jobs.start({ dataset: dto.dataset, source: dto.source, format: dto.format, csv: dto.csv, meta: commandMetadata() });
    if (!dto.wait) {
      res.status(202);
      return { jobId, status: 'running' };
    }
    return replyOutcome(res, await done);
  }

  @Put('datasets/:name/upload')
  @ApiOperation({ summary: 'Ingest the request body (streamed): ?format=csv&filename=x.csv&wait=true' })
  async upload(@Param('name') name: string, @Query() query: unknown, @Req() req: IncomingMessage, @Res({ passthrough: true }) res: Response) {
    const dataset = datasetName(name);
    const q = parseOrThrow(uploadQuerySchema, query, 'query');
    const dir = await mkdtemp(join(tmpdir(), 'mlp-upload-'));
    const path = join(dir, q.filename ? q.filename.replace(/[^A-Za-z0-9._-]/g, '_') : 'upload');
    try {
      await saveBody(req, path, this.config.MLP_INGEST_MAX_UPLOAD_BYTES, 'MLP_INGEST_MAX_UPLOAD_BYTES');
      const { jobId, done } = await this.jobs.start({
        dataset,
        source: { kind: 'upload', path, uri: `upload:${q.filename ?? 'body'}` },
        format: q.format,
        csv: csvFromQuery(q),
        meta: commandMetadata(),
      });
      const cleanup = done.finally(() => rm(dir, { recursive: true, force: true }));
      if (q.wait === 'false') {
        void cleanup;
        res.status(202);
        return { jobId, status: 'running' };
      }
      return replyOutcome(res, await cleanup);
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  @Post('datasets/:name/infer-schema')
  @HttpCode(200)
  @ApiOperation({ summary: 'Infer an editable schema from the request body (a sample file): ?format=csv&filename=x.csv' })
  async inferSchema(@Param('name') name: string, @Query() query: unknown, @Req() req: IncomingMessage) {
    const dataset = datasetName(name);
    const q = parseOrThrow(uploadQuerySchema, query, 'query');
    const dir = await mkdtemp(join(tmpdir(), 'mlp-infer-'));
    try {
      const path = join(dir, q.filename ? q.filename.replace(/[^A-Za-z0-9._-]/g, '_') : 'sample');
      await saveBody(req, path, this.config.MLP_INGEST_MAX_UPLOAD_BYTES, 'MLP_INGEST_MAX_UPLOAD_BYTES');
      const source = await localFileSource(path, { format: q.format });
      const inferred = await inferFileSchema({ path, format: source.format, csv: csvFromQuery(q) }, dataset, dir);
      return { yaml: schemaToYaml(inferred.schema, inferred.observed), schema: inferred.schema, candidateKeys: inferred.candidateKeys };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  @Get('ingestions/:jobId')
  @ApiOperation({ summary: 'Status and outcome of an ingestion job' })
  ingestion(@Param('jobId') jobId: string) {
    return this.jobs.outcome(parseOrThrow(getIngestionSchema, { jobId }, 'path').jobId);
  }

  @Get('datasets/:name/versions/:version')
  @ApiOperation({ summary: 'One version' })
  version(@Param('name') name: string, @Param('version') version: string) {
    return this.datasets.version(datasetName(name), versionNumber(version));
  }

  @Get('datasets/:name/versions/:version/report')
  @ApiOperation({ summary: "The version's quality report (JSON, streamed from the artifact store with content-length and x-content-sha256)" })
  async report(@Param('name') name: string, @Param('version') version: string, @Res() res: Response) {
    const v = this.datasets.version(datasetName(name), versionNumber(version));
    await sendArtifact(res, this.artifacts, v.reportArtifactKey, { contentType: 'application/json; charset=utf-8', filename: `${name}-v${v.version}-report.json` });
  }

  @Get('datasets/:name/versions/:version/data')
  @ApiOperation({ summary: "Download the version's accepted rows (Parquet, streamed with content-length and x-content-sha256)" })
  async data(@Param('name') name: string, @Param('version') version: string, @Res() res: Response) {
    const v = this.datasets.version(datasetName(name), versionNumber(version));
    await sendArtifact(res, this.artifacts, v.artifactKey, { contentType: 'application/vnd.apache.parquet', filename: `${name}-v${v.version}.parquet` });
  }

  @Get('datasets/:name/versions/:version/quarantine')
  @ApiOperation({ summary: 'Download the quarantined rows: ?format=parquet (default) or ndjson' })
  async quarantine(@Param('name') name: string, @Param('version') version: string, @Query('format') format: string | undefined, @Res() res: Response) {
    const v = this.datasets.version(datasetName(name), versionNumber(version));
    if (!v.quarantineArtifactKey) throw new NotFoundError(`version ${v.version} of '${name}' has no quarantined rows`, { code: 'NO_QUARANTINE' });
    await this.datasets.sendQuarantine(v.quarantineArtifactKey, format === 'ndjson' ? 'ndjson' : 'parquet', res, `${name}-v${v.version}-quarantine`);
  }

  @MessagePattern(subjects.cmd.ingestion.registerDataset)
  registerRpc(@Payload() request: RpcRequest): Promise<DatasetView> {
    return this.datasets.register(parseOrThrow(registerDatasetSchema, request?.payload, 'payload'), commandMetadata());
  }

  @MessagePattern(subjects.cmd.ingestion.declareSchema)
  declareSchemaRpc(@Payload() request: RpcRequest): Promise<DatasetView> {
    const payload = parseOrThrow(z.object({ dataset: getDatasetSchema.shape.name, schema: z.unknown().optional(), yaml: z.string().optional() }), request?.payload, 'payload');
    const schema = payload.yaml !== undefined ? parseSchemaYaml(payload.yaml) : parseDatasetSchema(payload.schema);
    return this.datasets.declareSchema(payload.dataset, schema, commandMetadata());
  }

  @MessagePattern(subjects.cmd.ingestion.startIngestion)
  async startRpc(@Payload() request: RpcRequest): Promise<IngestionOutcome | { jobId: string; status: 'running' }> {
    const dto = parseOrThrow(startIngestionSchema, request?.payload, 'payload');
    const { jobId, done } = await this.jobs.start({ dataset: dto.dataset, source: dto.source, format: dto.format, csv: dto.csv, meta: commandMetadata() });
    return dto.wait ? done : { jobId, status: 'running' };
  }

  @MessagePattern(subjects.qry.ingestion.listDatasets)
  listRpc() {
    return { datasets: this.datasets.summaries() };
  }

  @MessagePattern(subjects.qry.ingestion.getDataset)
  getRpc(@Payload() request: RpcRequest): DatasetView {
    return this.datasets.get(parseOrThrow(getDatasetSchema, request?.payload, 'payload').name);
  }

  @MessagePattern(subjects.qry.ingestion.getIngestion)
  ingestionRpc(@Payload() request: RpcRequest): Promise<IngestionOutcome> {
    return this.jobs.outcome(parseOrThrow(getIngestionSchema, request?.payload, 'payload').jobId);
  }
}

function datasetName(name: string): string {
  return parseOrThrow(getDatasetSchema, { name }, 'path').name;
}

function versionNumber(version: string): number {
  const n = Number(version);
  if (!Number.isInteger(n) || n < 1) throw new ValidationError(`version must be a positive integer, got '${version}'`, [{ path: 'version', message: 'a positive integer' }]);
  return n;
}

function asObject(body: unknown): Record<string, unknown> {
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
}

/** A failed job is a 422 with the outcome; anything else 201 (new version) or 200 (duplicate). */
function replyOutcome(res: Response, outcome: IngestionOutcome): IngestionOutcome {
  res.status(outcome.status === 'failed' ? 422 : outcome.status === 'duplicate' ? 200 : 201);
  return outcome;
}

/** A schema from a YAML body (error lines refer to it) or a JSON body. */
async function schemaFromRequest(req: IncomingMessage & { body?: unknown }): Promise<DatasetSchema> {
  const type = req.headers['content-type'] ?? '';
  if (type.includes('json')) return parseDatasetSchema(req.body);
  return parseSchemaYaml(await readText(req));
}
