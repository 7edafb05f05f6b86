import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * Prometheus metrics of the data plane, per model and version, on the
 * service's registry (`/metrics`): request counts by code, latency and
 * batch-size histograms, queue depth, shed and rate-limited counts.
 */
export class ServingMetrics {
  readonly requests: Counter<'model' | 'version' | 'protocol' | 'code'>;
  readonly latency: Histogram<'model' | 'version' | 'protocol'>;
  readonly batchSize: Histogram<'model' | 'version'>;
  readonly queueDepth: Gauge<'model' | 'version'>;
  readonly shed: Counter<'model' | 'version'>;
  readonly rateLimited: Counter<'protocol'>;
  readonly telemetryDropped: Counter;
  readonly loaded: Gauge<'model' | 'version' | 'backend'>;

  constructor(registry: Registry, queueDepths: () => { model: string; version: string; depth: number }[]) {
    const registers = [registry];
    this.requests = new Counter({ name: 'serving_requests_total', help: 'Inference requests by model, version, protocol and result code', labelNames: ['model', 'version', 'protocol', 'code'], registers });
    this.latency = new Histogram({
      name: 'serving_request_duration_seconds',
      help: 'Inference latency (validation, lookup, queueing, predict) in seconds',
      labelNames: ['model', 'version', 'protocol'],
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.batchSize = new Histogram({ name: 'serving_batch_size', help: 'Rows per predict call', labelNames: ['model', 'version'], buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024], registers });
    this.queueDepth = new Gauge({
      name: 'serving_queue_depth',
      help: 'Rows waiting for a predict call',
      labelNames: ['model', 'version'],
      registers,
      collect() {
        this.reset();
        for (const q of queueDepths()) this.set({ model: q.model, version: q.version }, q.depth);
      },
    });
    this.shed = new Counter({ name: 'serving_shed_total', help: 'Requests refused because the queue was full (503)', labelNames: ['model', 'version'], registers });
    this.rateLimited = new Counter({ name: 'serving_rate_limited_total', help: 'Requests refused by the per-key rate limit (429)', labelNames: ['protocol'], registers });
    this.telemetryDropped = new Counter({ name: 'serving_telemetry_dropped_total', help: 'Prediction records not published (buffer full or sink failing)', registers });
    this.loaded = new Gauge({ name: 'serving_loaded_versions', help: 'Loaded model versions (1 while loaded)', labelNames: ['model', 'version', 'backend'], registers });
  }
}
