import type { IncomingMessage } from 'node:http';
import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { z } from 'zod';
import type { ArtifactStore } from '@mlp/artifacts';
import { NotFoundError, parseOrThrow, subjects, ValidationError, type RpcRequest } from '@mlp/contracts';
import { ARTIFACT_STORE, commandMetadata, readText, sendArtifact } from '@mlp/service-kit';
import { RunsService, type StartRunInput } from './runs/runs.service';
import { RunsQueryService } from './runs/runs-query.service';

const runIdSchema = z.string().uuid('expected a run id (uuid)');
const startSchema = z.union([z.object({ yaml: z.string().min(1) }).strict(), z.object({ spec: z.record(z.string(), z.unknown()) }).strict()]);
const listSchema = z
  .object({
    experiment: z.string().optional(),
    status: z.enum(['running', 'cancelling', 'completed', 'failed', 'cancelled']).optional(),
    orderBy: z.string().optional(),
    limit: z.coerce.number().int().positive().max(10_000).optional(),
  })
  .strict();
const runId = (id: unknown, path = 'id') => {
  const r = runIdSchema.safeParse(id);
  if (!r.success) throw new ValidationError(`invalid run id ${JSON.stringify(id)}`, [{ path, message: 'expected a run id (uuid)' }]);
  return r.data;
};
const artifactKinds = { model: 'model', weights: 'weights', preprocessing: 'preprocessing', report: 'report', 'model-card': 'modelCard' } as const;

/** Training runs and experiments over HTTP and NATS. */
@ApiTags('training')
@Controller()
export class TrainingController {
  constructor(
    private readonly runs: RunsService,
    private readonly queries: RunsQueryService,
    @Inject(ARTIFACT_STORE) private readonly artifacts: ArtifactStore,
  ) {}

  @Post('runs')
  @HttpCode(202)
  @ApiOperation({ summary: 'Start a training run: a train.yaml body (text/yaml), or JSON {yaml} or {spec}. Replies with the run id at once.' })
  async start(@Req() req: IncomingMessage & { body?: unknown }) {
    const type = String(req.headers['content-type'] ?? '');
    const input: StartRunInput = type.includes('json') ? parseOrThrow(startSchema, req.body, 'request') : { yaml: await readText(req) };
    const started = await this.runs.start(input, commandMetadata());
    return started;
  }

  @Get('runs')
  @ApiOperation({ summary: 'List runs (?experiment, ?status, ?orderBy=<holdout metric> best first, ?limit)' })
  list(@Query() query: Record<string, string>) {
    return { runs: this.queries.list(parseOrThrow(listSchema, query, 'query')) };
  }

  @Get('runs/compare')
  @ApiOperation({ summary: 'Compare runs side by side (?ids=a,b[,c])' })
  compare(@Query('ids') ids?: string) {
    return this.queries.compare((ids ?? '').split(',').filter(Boolean).map((id, i) => runId(id, `ids[${i}]`)));
  }

  @Get('runs/:id')
  @ApiOperation({ summary: 'A run: status, trials, holdout metrics, evaluation, artifacts' })
  get(@Param('id') id: string) {
    return this.queries.get(runId(id));
  }

  @Get('runs/:id/curves')
  @ApiOperation({ summary: 'Per-epoch loss and metrics of the final fit and of every trial fold' })
  curves(@Param('id') id: string) {
    return this.queries.curves(runId(id));
  }

  @Get('runs/:id/artifacts/:kind')
  @ApiOperation({ summary: 'Download an artifact of a completed run (streamed, with content-length and x-content-sha256): model, weights, preprocessing, report, model-card' })
  async artifact(@Param('id') id: string, @Param('kind') kind: string, @Res() res: Response) {
    const run = this.queries.get(runId(id));
    const field = artifactKinds[kind as keyof typeof artifactKinds];
    if (!field) throw new ValidationError(`unknown artifact '${kind}'`, [{ path: 'kind', message: `one of ${Object.keys(artifactKinds).join(', ')}` }]);
    if (!run.artifacts) throw new NotFoundError(`run ${id} has no artifacts (status ${run.status})`, { code: 'NO_ARTIFACTS' });
    const contentType = kind === 'model-card' ? 'text/markdown; charset=utf-8' : kind === 'weights' ? 'application/octet-stream' : 'application/json';
    const ext = kind === 'model-card' ? 'md' : kind === 'weights' ? 'bin' : 'json';
    await sendArtifact(res, this.artifacts, run.artifacts[field], { contentType, filename: `${run.runId}-${kind}.${ext}` });
  }

  @Post('runs/:id/cancel')
  @HttpCode(202)
  @ApiOperation({ summary: 'Cancel a running run' })
  cancel(@Param('id') id: string, @Body() body: unknown) {
    const reason = parseOrThrow(z.object({ reason: z.string().max(500).optional() }), body ?? {}, 'request').reason;
    return this.runs.cancel(runId(id), reason, commandMetadata());
  }

  @Post('runs/:id/replay')
  @HttpCode(200)
  @ApiOperation({ summary: 'Re-execute the run from its events and inputs; compare the weights sha256' })
  replay(@Param('id') id: string) {
    return this.runs.replay(runId(id), commandMetadata());
  }

  @Get('experiments')
  @ApiOperation({ summary: 'Experiments with their run counts' })
  experiments() {
    return { experiments: this.queries.experiments() };
  }

  @MessagePattern(subjects.cmd.training.startRun)
  startRpc(@Payload() request: RpcRequest) {
    return this.runs.start(parseOrThrow(startSchema, request?.payload, 'payload'), commandMetadata());
  }

  @MessagePattern(subjects.cmd.training.cancelRun)
  cancelRpc(@Payload() request: RpcRequest) {
    const p = parseOrThrow(z.object({ runId: runIdSchema, reason: z.string().max(500).optional() }), request?.payload, 'payload');
    return this.runs.cancel(p.runId, p.reason, commandMetadata());
  }

  @MessagePattern(subjects.cmd.training.replayRun)
  replayRpc(@Payload() request: RpcRequest) {
    return this.runs.replay(parseOrThrow(z.object({ runId: runIdSchema }), request?.payload, 'payload').runId, commandMetadata());
  }

  @MessagePattern(subjects.qry.training.getRun)
  getRpc(@Payload() request: RpcRequest) {
    return this.queries.get(parseOrThrow(z.object({ runId: runIdSchema }), request?.payload, 'payload').runId);
  }

  @MessagePattern(subjects.qry.training.listRuns)
  listRpc(@Payload() request: RpcRequest) {
    return { runs: this.queries.list(parseOrThrow(listSchema, request?.payload ?? {}, 'payload')) };
  }

  @MessagePattern(subjects.qry.training.listExperiments)
  experimentsRpc() {
    return { experiments: this.queries.experiments() };
  }

  @MessagePattern(subjects.qry.training.compareRuns)
  compareRpc(@Payload() request: RpcRequest) {
    return this.queries.compare(parseOrThrow(z.object({ ids: z.array(runIdSchema).min(2) }), request?.payload, 'payload').ids);
  }

  @MessagePattern(subjects.qry.training.runCurves)
  curvesRpc(@Payload() request: RpcRequest) {
    return this.queries.curves(parseOrThrow(z.object({ runId: runIdSchema }), request?.payload, 'payload').runId);
  }
}
