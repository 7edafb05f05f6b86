import type { IncomingMessage } from 'node:http';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Controller, Get, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { z } from 'zod';
import { parseOrThrow } from '@mlp/contracts';
import { RequireScopes, saveBody } from '@mlp/service-kit';
import { TRAINING_CONFIG, type TrainingConfig } from '../training-config';
import { RunArchiveService } from './run-archive.service';

const runIdSchema = z.object({ id: z.string().uuid('expected a run id (uuid)') });
const exportQuery = z.object({ gzip: z.enum(['true', 'false']).optional() }).strict();

/** Run archives: export a run with its lineage and artifacts, import one into this platform. */
@ApiTags('training')
@Controller()
export class RunArchiveController {
  constructor(
    private readonly archives: RunArchiveService,
    @Inject(TRAINING_CONFIG) private readonly config: TrainingConfig,
  ) {}

  @Get('runs/:id/export')
  @ApiOperation({
    summary:
      'A run archive (tar.gz, or tar with ?gzip=false): manifest.json, the events of the run and of everything it depends on ' +
      '(experiment, training set, feature-view materializations, dataset versions), and every artifact they reference; x-content-sha256 of the archive',
  })
  async export(@Param('id') id: string, @Query() query: Record<string, string>, @Res() res: Response) {
    const { id: runId } = parseOrThrow(runIdSchema, { id }, 'path');
    const gzip = parseOrThrow(exportQuery, query, 'query').gzip !== 'false';
    const archive = await this.archives.export(runId, { gzip });
    try {
      res.status(200);
      res.setHeader('content-type', gzip ? 'application/gzip' : 'application/x-tar');
      res.setHeader('content-length', String(archive.size));
      res.setHeader('x-content-sha256', archive.sha256);
      res.setHeader('content-disposition', `attachment; filename="run-${runId}.tar${gzip ? '.gz' : ''}"`);
      await pipeline(createReadStream(archive.path), res);
    } catch (err) {
      res.destroy();
      throw err;
    } finally {
      await rm(archive.dir, { recursive: true, force: true });
    }
  }

  @Post('runs/import')
  @HttpCode(200)
  @RequireScopes('admin')
  @ApiOperation({
    summary:
      'Import a run archive (the body: tar or tar.gz from GET /runs/:id/export; admin scope). Checked whole before anything is written; ' +
      'idempotent (event ids kept, events already there skipped); 400 ARCHIVE_INVALID, 409 IMPORT_CONFLICT, 412 IMPORT_CONCURRENT_WRITE, 413 over MLP_IMPORT_MAX_BYTES',
  })
  async import(@Req() req: IncomingMessage) {
    const dir = await mkdtemp(join(tmpdir(), 'mlp-import-upload-'));
    try {
      const file = join(dir, 'archive');
      await saveBody(req, file, this.config.MLP_IMPORT_MAX_BYTES, 'MLP_IMPORT_MAX_BYTES');
      return await this.archives.import(file, this.config.MLP_IMPORT_MAX_BYTES);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}
