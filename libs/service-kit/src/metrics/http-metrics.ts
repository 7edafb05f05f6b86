import type { IncomingMessage, ServerResponse } from 'node:http';
import { Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Express sets these on the request once a route matched. */
interface RoutedRequest extends IncomingMessage {
  baseUrl?: string;
  route?: { path?: unknown };
}

/** Label for requests that matched no route (404s, body-parser rejections). */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * The Prometheus registry of one app, never the global one: in embedded mode
 * six apps share a process, each with its own registry, default metrics and
 * `http_request_duration_seconds{method,route,status}`.
 */
export class HttpMetrics {
  readonly registry = new Registry();
  readonly httpRequestDuration: Histogram<'method' | 'route' | 'status'>;

  constructor(service: string) {
    this.registry.setDefaultLabels({ service });
    collectDefaultMetrics({ register: this.registry });
    this.httpRequestDuration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Duration of HTTP requests in seconds',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    });
  }

  /** Express middleware timing each request; labels with the route pattern, not the raw URL. */
  middleware() {
    return (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
      const end = this.httpRequestDuration.startTimer();
      res.once('finish', () => {
        end({ method: req.method ?? 'UNKNOWN', route: routeOf(req as RoutedRequest), status: String(res.statusCode) });
      });
      next();
    };
  }
}

function routeOf(req: RoutedRequest): string {
  const path = req.route?.path;
  return typeof path === 'string' ? `${req.baseUrl ?? ''}${path}` : UNMATCHED_ROUTE;
}
