import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Controller, Get, Inject, Param, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { InfrastructureError, NotFoundError, ValidationError, serviceNames, type ServiceName } from '@mlp/contracts';
import { HEALTH_CONFIG, type HealthConfig } from '../health/health-config';

/** Headers passed on to the service, and back to the page. */
const REQUEST_HEADERS = ['accept', 'authorization', 'x-api-key', 'x-correlation-id'];
const RESPONSE_HEADERS = ['content-type', 'content-length', 'x-content-sha256', 'retry-after'];
const SEGMENT = /^[A-Za-z0-9._:@=~+-]+$/;
const TIMEOUT_MS = 15_000;

/**
 * Read-only pass-through to the six services' public HTTP APIs, so the
 * dashboard, served here, reads exactly what the APIs say without CORS.
 * Only GET, only to the configured service URLs (MLP_<SERVICE>_URL or the
 * embedded ports), only plain path segments; the caller's key goes along
 * and each service checks it as it would a direct call.
 */
@ApiTags('dashboard')
@Controller('api')
export class ApiProxyController {
  private readonly targets: Map<string, string>;

  constructor(@Inject(HEALTH_CONFIG) config: HealthConfig) {
    this.targets = new Map(config.targets.map((t) => [t.service, t.url]));
  }

  @Get(':service/*path')
  @ApiOperation({ summary: "GET a service's API through monitoring (/api/<service>/<path>?<query>): the dashboard's only way in" })
  async proxy(@Param('service') service: string, @Param('path') path: string | string[], @Req() req: IncomingMessage, @Res() res: ServerResponse): Promise<void> {
    const base = this.targets.get(service);
    if (!base) throw new NotFoundError(`no service '${service}'`, { details: { services: serviceNames as readonly ServiceName[] } });
    const segments = (Array.isArray(path) ? path : String(path).split('/')).filter((s) => s !== '');
    const bad = segments.find((s) => s === '.' || s === '..' || !SEGMENT.test(s));
    if (bad !== undefined || segments.length === 0) throw new ValidationError('invalid path', [{ path: 'path', message: `each segment must match ${SEGMENT.source} and not be . or ..` }]);
    const query = (req.url ?? '').includes('?') ? (req.url ?? '').slice((req.url ?? '').indexOf('?')) : '';
    const headers: Record<string, string> = {};
    for (const h of REQUEST_HEADERS) {
      const v = req.headers[h];
      if (typeof v === 'string') headers[h] = v;
    }
    let upstream: Response;
    try {
      upstream = await fetch(`${base}/${segments.map(encodeURIComponent).join('/')}${query}`, { headers, signal: AbortSignal.timeout(TIMEOUT_MS), redirect: 'manual' });
    } catch (cause) {
      throw new InfrastructureError(`${service} did not answer`, { code: 'UPSTREAM_UNAVAILABLE', details: { service }, cause });
    }
    const out: Record<string, string> = { 'cache-control': 'no-store' };
    for (const h of RESPONSE_HEADERS) {
      const v = upstream.headers.get(h);
      if (v !== null) out[h] = v;
    }
    res.writeHead(upstream.status, out);
    if (!upstream.body) {
      res.end();
      return;
    }
    await pipeline(Readable.fromWeb(upstream.body as import('node:stream/web').ReadableStream), res).catch(() => res.destroy());
  }
}
