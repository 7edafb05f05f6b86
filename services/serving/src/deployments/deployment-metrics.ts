import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * Per-arm metrics of rollouts on the service's registry (`/metrics`), so
 * dashboards and alerts can compare the arms: requests by arm, version and
 * result code, latency by arm, mirrored requests by result, and the weight
 * each arm holds now.
 */
export class DeploymentMetrics {
  readonly requests: Counter<'model' | 'version' | 'arm' | 'code'>;
  readonly latency: Histogram<'model' | 'arm'>;
  readonly shadow: Counter<'model' | 'version' | 'code'>;
  readonly weight: Gauge<'model' | 'arm' | 'version'>;
  readonly decisions: Counter<'model' | 'outcome'>;

  constructor(registry: Registry, weights: () => { model: string; arm: string; version: number; weight: number }[]) {
    const registers = [registry];
    this.requests = new Counter({ name: 'serving_rollout_requests_total', help: 'Requests routed by a rollout, by arm (stable/candidate), version and result code', labelNames: ['model', 'version', 'arm', 'code'], registers });
    this.latency = new Histogram({
      name: 'serving_rollout_request_duration_seconds',
      help: 'Latency of requests routed by a rollout, by arm',
      labelNames: ['model', 'arm'],
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.shadow = new Counter({ name: 'serving_shadow_requests_total', help: 'Requests mirrored to a shadow challenger, by result code (never seen by callers)', labelNames: ['model', 'version', 'code'], registers });
    this.weight = new Gauge({
      name: 'serving_rollout_weight_percent',
      help: 'Percent of answered traffic per arm of the active rollout',
      labelNames: ['model', 'arm', 'version'],
      registers,
      collect() {
        this.reset();
        for (const w of weights()) this.set({ model: w.model, arm: w.arm, version: String(w.version) }, w.weight);
      },
    });
    this.decisions = new Counter({ name: 'serving_rollout_policy_decisions_total', help: 'Automatic canary policy decisions by outcome', labelNames: ['model', 'outcome'], registers });
  }
}
