import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join, resolve } from 'node:path';
import { Body, Controller, Get, HttpCode, Inject, Param, Post, Req, Res } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { ArtifactStore } from '@mlp/artifacts';
import { NotFoundError, parseOrThrow, ValidationError, startBatchInferenceSchema, subjects, type BatchJobView, type RpcRequest } from '@mlp/contracts';
import { z } from 'zod';
import { ARTIFACT_STORE, commandMetadata, RequireScopes, saveBody, sendArtifact, ZodBody } from '@mlp/service-kit';
import { ServingRuntime } from '../serving-runtime';
import { BatchService } from './batch.service';

/** Largest input file POST /batch/inputs takes (MLP_BATCH_MAX_INPUT_BYTES, default 4 GiB). */
const maxInputBytes = () => Number(process.env.MLP_BATCH_MAX_INPUT_BYTES ?? 4 * 1024 ** 3);

/** Batch inference: upload an input, start a job, follow it, download its output and rejects. */
@ApiTags('batch')
@Controller('batch')
export class BatchController {
  constructor(
    private readonly batch: BatchService,
    private readonly runtime: ServingRuntime,
    @Inject(ARTIFACT_STORE) private readonly artifacts: ArtifactStore,
  ) {}

  @Post('inputs')
  @HttpCode(201)
  @RequireScopes('predict')
  @ApiOperation({ summary: 'Stores a CSV or Parquet file (the raw request body) as a batch input; answers its key and sha256' })
  async upload(@Req() req: IncomingMessage): Promise<{ key: string; sha256: string; bytes: number }> {
    const parent = join(resolve(this.runtime.config.home), 'tmp', 'batch');
    await mkdir(parent, { recursive: true });
    const dir = await mkdtemp(join(parent, 'upload-'));
    try {
      const path = join(dir, 'body');
      const size = await saveBody(req, path, maxInputBytes(), 'MLP_BATCH_MAX_INPUT_BYTES');
      if (size === 0) throw new ValidationError('the upload is empty: send the CSV or Parquet file as the raw body (content-type application/octet-stream)', [{ path: 'body', message: 'empty' }], { code: 'EMPTY_UPLOAD' });
      const put = await this.artifacts.put(createReadStream(path), { size });
      return { key: put.key, sha256: put.sha256, bytes: put.size };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  @Post('jobs')
  @HttpCode(202)
  @RequireScopes('predict')
  @ZodBody(startBatchInferenceSchema)
  @ApiOperation({ summary: 'Starts a batch inference job: {model: "m" | "m@alias" | "m:3", input: {upload: key} | {dataset, version?}, format: parquet|csv, chunkRows?}' })
  start(@Body() body: unknown): Promise<BatchJobView> {
    return this.batch.start(body, commandMetadata());
  }

  @Get('jobs/:id')
  @RequireScopes(['read', 'predict'])
  @ApiOperation({ summary: 'A batch job: status, chunks and rows done, rejects, output files' })
  job(@Param('id') id: string): Promise<BatchJobView> {
    return this.batch.view(id);
  }

  @Get('jobs/:id/output')
  @RequireScopes(['read', 'predict'])
  @ApiOperation({ summary: 'The predictions file of a completed job (Parquet or CSV)' })
  async output(@Param('id') id: string, @Res() res: ServerResponse): Promise<void> {
    await this.send(id, 'output', res);
  }

  @Get('jobs/:id/rejects')
  @RequireScopes(['read', 'predict'])
  @ApiOperation({ summary: 'The rejected rows of a completed job, each with its reasons (404 when none were rejected)' })
  async rejects(@Param('id') id: string, @Res() res: ServerResponse): Promise<void> {
    await this.send(id, 'rejects', res);
  }

  // ---- NATS: any serving instance of the queue group takes the command and runs the job ----

  @MessagePattern(subjects.cmd.serving.startBatchInference)
  startRpc(@Payload() r: RpcRequest): Promise<BatchJobView> {
    return this.batch.start(r?.payload, commandMetadata());
  }

  @MessagePattern(subjects.qry.serving.getBatchInference)
  jobRpc(@Payload() r: RpcRequest): Promise<BatchJobView> {
    return this.batch.view(parseOrThrow(z.object({ jobId: z.string().min(1) }), r?.payload, 'payload').jobId);
  }

  private async send(id: string, which: 'output' | 'rejects', res: ServerResponse): Promise<void> {
    const view = await this.batch.view(id);
    if (view.status !== 'completed') throw new NotFoundError(`batch job ${id} is ${view.status}: it has no ${which} yet`, { code: 'BATCH_OUTPUT_NOT_READY' });
    const file = view[which];
    if (!file) throw new NotFoundError(`batch job ${id} rejected no rows`, { code: 'BATCH_NO_REJECTS' });
    await sendArtifact(res, this.artifacts, file.artifactKey, { filename: `${id}-${which}.${file.format}` });
  }
}
