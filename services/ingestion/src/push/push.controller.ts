import type { IncomingMessage } from 'node:http';
import { Controller, Param, Post, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { getDatasetSchema, ndjsonContentTypes, parseOrThrow, ValidationError, type PushRowsResult } from '@mlp/contracts';
import { readBody, RequireScopes } from '@mlp/service-kit';
import { linesFromJson, linesFromNdjson, type PushedLine } from './push-rows';
import { PushService } from './push.service';

type PushRequest = IncomingMessage & { body?: unknown };

/** Rows pushed over HTTP: validated at once, spooled durably, ingested as versions in batches. */
@ApiTags('push')
@Controller()
export class PushController {
  constructor(private readonly push: PushService) {}

  @Post('datasets/:name/rows')
  @RequireScopes('push', { always: true })
  @ApiOperation({
    summary:
      'Push rows: JSON {"rows":[...]} or [...], or NDJSON (application/x-ndjson). Needs an API key with the push, write or admin scope (x-api-key or Bearer), even with auth off. 202 when buffered, 200 when this push flushed a version.',
  })
  async pushRows(@Param('name') name: string, @Req() req: PushRequest, @Res({ passthrough: true }) res: Response): Promise<PushRowsResult> {
    const dataset = parseOrThrow(getDatasetSchema, { name }, 'path').name;
    const lines = await readLines(req, this.push.maxBodyBytes);
    const result = await this.push.push(dataset, lines);
    res.status(result.flushed ? 200 : 202);
    return result;
  }
}

async function readLines(req: PushRequest, maxBytes: number): Promise<PushedLine[]> {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if ((ndjsonContentTypes as readonly string[]).includes(type)) {
    const lines = linesFromNdjson(await readBody(req, maxBytes, 'MLP_PUSH_MAX_BYTES'));
    if (lines.length === 0) throw new ValidationError('the NDJSON body has no rows', [{ path: 'body', message: 'at least one non-blank line' }]);
    return lines;
  }
  if (type === 'application/json') return linesFromJson(req.body);
  if (type.endsWith('+json')) return linesFromJson(parseJson(await readBody(req, maxBytes, 'MLP_PUSH_MAX_BYTES')));
  throw new ValidationError(`unsupported content-type '${type || '(none)'}': send application/json or application/x-ndjson`, [
    { path: 'content-type', message: `application/json or one of ${ndjsonContentTypes.join(', ')}` },
  ]);
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new ValidationError(`the body is not JSON: ${(err as Error).message}`, [{ path: 'body', message: 'valid JSON' }]);
  }
}
