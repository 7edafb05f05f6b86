import type { IncomingMessage, ServerResponse } from 'node:http';
import { Controller, Get, Inject, Query, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { parseOrThrow } from '@mlp/contracts';
import type { EventStore } from '@mlp/eventstore';
import { EVENT_STORE } from '@mlp/service-kit';
import { headPosition } from '../health/health.service';
import { eventView, readEventPage } from './event-log';

const position = z.coerce.number().int().min(0);
const pageQuery = z
  .object({
    after: position.optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    stream: z.string().min(1).max(200).optional(),
    type: z.string().regex(/^[A-Z][A-Za-z0-9]*$/, 'an event type is PascalCase').optional(),
    correlation: z.string().min(1).max(200).optional(),
  })
  .strict();
const liveQuery = z.object({ after: position.optional() }).strict();

/** Idle connections get a comment line this often, so proxies keep them open. */
const HEARTBEAT_MS = 15_000;

/**
 * The event log, read-only: pages of the global log (the dashboard's tail,
 * `mlp events`) and a live feed as server-sent events. Events hold no
 * secrets by design (keys are hashed, connection strings named), so their
 * data is shown as stored.
 */
@ApiTags('events')
@Controller('events')
export class EventsController {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  @Get()
  @ApiOperation({ summary: 'Events of the global log (?after=<position> pages forward; without it the newest; ?limit, ?stream, ?type, ?correlation)' })
  async page(@Query() query: Record<string, unknown>) {
    const q = parseOrThrow(pageQuery, query, 'query');
    return readEventPage(this.store, await headPosition(this.store), q);
  }

  @Get('live')
  @ApiOperation({ summary: 'Server-sent events: every event appended after ?after=<position> (default: the head), as `event: mlp` with the event as JSON' })
  async live(@Query() query: Record<string, unknown>, @Req() req: IncomingMessage, @Res() res: ServerResponse): Promise<void> {
    const q = parseOrThrow(liveQuery, query, 'query');
    const from = q.after ?? (await headPosition(this.store));
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write(`: from ${from}\n\n`);
    const subscription = this.store.subscribe({ fromCheckpoint: from }, (e) => {
      res.write(`id: ${e.position}\nevent: mlp\ndata: ${JSON.stringify(eventView(e))}\n\n`);
    });
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
    const stop = () => {
      clearInterval(heartbeat);
      void subscription.close();
    };
    req.on('close', stop);
    subscription.done.catch(() => res.end()).finally(stop);
  }
}
