import type { IncomingMessage } from 'node:http';
import { Body, Controller, Get, HttpCode, Param, Post, Req, UseFilters, UseGuards } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { feedbackRequestSchema, NotFoundError, parseOrThrow, type FeedbackTelemetry } from '@mlp/contracts';
import { RequireScopes, ZodBody } from '@mlp/service-kit';
import { ServingRuntime } from '../serving-runtime';
import { RateLimitGuard } from './rate-limit.guard';
import { headerOf, keyIdOf } from './request-meta';
import { v1Predict, type PredictResponse } from './inference-handlers';
import { ServingExceptionFilter } from './serving-exception.filter';

export interface ServingStatus {
  instance: string;
  ready: boolean;
  memory: { rssBytes: number; heapUsedBytes: number; externalBytes: number };
  models: {
    name: string;
    version: string;
    aliases: string[];
    backend: string;
    loadedAt: string;
    weightsBytes: number;
    requests: number;
    requestsPerSecond: number;
    inflight: number;
    queueDepth: number;
    batching: { maxBatchSize: number; maxLatencyMs: number };
  }[];
  routes: { name: string; alias: string; version: number | null; error?: string }[];
}

/** The friendly JSON API, feedback and the instance's status. */
@ApiTags('inference')
@Controller('v1')
@UseFilters(ServingExceptionFilter)
export class V1Controller {
  constructor(private readonly runtime: ServingRuntime) {}

  @Post('models/:target')
  @HttpCode(200)
  @RequireScopes('predict')
  @UseGuards(RateLimitGuard)
  @ApiOperation({ summary: 'POST /v1/models/{m}:predict — named features (or entity keys) per instance; {m} is name, name@alias or name:version' })
  @ApiBody({ schema: { type: 'object', example: { instances: [{ bill_length_mm: 39.1, island: 'Torgersen' }, { customer_id: 42 }] } } })
  @ApiOkResponse({ schema: { example: { predictions: ['Adelie'], probabilities: [[0.97, 0.02, 0.01]], model: 'penguins', version: '3', request_id: '0b6c…' } } })
  async predict(@Param('target') target: string, @Body() body: unknown, @Req() req: IncomingMessage): Promise<PredictResponse> {
    return v1Predict(this.runtime, target, body, { requestIdHeader: headerOf(req, 'x-request-id'), keyId: keyIdOf(req), headers: req.headers });
  }


  @Post('feedback')
  @HttpCode(202)
  @RequireScopes('predict')
  @ApiOperation({ summary: 'Ground truth for earlier predictions: {request_id, label} or {items: [...]} (recorded as telemetry)' })
  @ZodBody(feedbackRequestSchema)
  async feedback(@Body() body: unknown): Promise<{ accepted: number }> {
    const parsed = parseOrThrow(feedbackRequestSchema, body, 'feedback');
    const items = 'items' in parsed ? parsed.items : [parsed];
    const at = new Date().toISOString();
    const records: FeedbackTelemetry[] = [];
    for (const [i, item] of items.entries()) {
      const model = item.model ?? (await this.runtime.telemetry.modelOf(item.request_id));
      if (!model) {
        throw new NotFoundError(`unknown request_id '${item.request_id}'${items.length > 1 ? ` (items[${i}])` : ''}: serving has no prediction with it; send "model" too`, { code: 'REQUEST_NOT_FOUND' });
      }
      records.push({ requestId: item.request_id, row: item.row, model, label: item.label, at });
    }
    this.runtime.telemetry.publishFeedback(records);
    return { accepted: records.length };
  }

  @Get('serving/status')
  @RequireScopes(['read', 'predict'])
  @ApiOperation({ summary: 'Loaded versions with their aliases, memory and request rates; every served alias and what answers it' })
  status(): ServingStatus {
    const mem = process.memoryUsage();
    return {
      instance: this.runtime.config.instance,
      ready: this.runtime.models.isReady(),
      memory: { rssBytes: mem.rss, heapUsedBytes: mem.heapUsed, externalBytes: mem.external },
      models: this.runtime.models.list().map((s) => ({
        name: s.loaded.name,
        version: String(s.loaded.version),
        aliases: [...s.aliases].sort(),
        backend: s.loaded.backend,
        loadedAt: s.loaded.loadedAt.toISOString(),
        weightsBytes: s.loaded.weightsBytes,
        requests: s.loaded.requests,
        requestsPerSecond: this.runtime.rates.rate(s),
        inflight: s.inflight,
        queueDepth: s.batcher.depth,
        batching: this.runtime.config.batching(s.loaded.name),
      })),
      routes: this.runtime.models.routesView(),
    };
  }
}
