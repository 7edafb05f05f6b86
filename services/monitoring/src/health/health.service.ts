import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { ServiceName } from '@mlp/contracts';
import type { EventStore } from '@mlp/eventstore';
import { Gauge } from 'prom-client';
import { EVENT_STORE, HttpMetrics, SERVICE_LOGGER, type Logger } from '@mlp/service-kit';
import { HEALTH_CONFIG, type HealthConfig } from './health-config';
import { parsePrometheusText, type Sample } from './prometheus-text';
import { httpHealth, type HttpHealth, type Scrape } from './service-health';

export interface ServiceHealthView {
  service: ServiceName;
  url: string;
  up: boolean;
  /** Why the last scrape failed, when it did. */
  error: string | null;
  scrapedAt: string | null;
  http: HttpHealth | null;
  /** Rows waiting per queue (serving's batching queues by model and version). */
  queues: { name: string; labels: Record<string, string>; depth: number }[];
  /** Serving's per-model, per-version and per-arm series, as scraped. */
  passThrough: Sample[];
}

export interface ProcessManagerLag {
  name: string;
  /** Last handled global position, null when it never ran against this store. */
  checkpoint: number | null;
  head: number;
  lag: number | null;
}

/** Families passed through untouched: serving's per-model/version/arm series. */
const PASS_THROUGH = /^serving_(requests_total|rollout_requests_total|rollout_weight_percent|loaded_versions|shed_total|rollout_policy_decisions_total)$/;

/**
 * System health: scrapes every service's Prometheus /metrics over HTTP (on
 * an interval and on request), keeps the last two scrapes per service for
 * rates, and measures each process manager's checkpoint against the head of
 * the event store.
 */
@Injectable()
export class HealthService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly scrapes = new Map<ServiceName, { last?: Scrape; previous?: Scrape; error: string | null }>();
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(HEALTH_CONFIG) private readonly config: HealthConfig,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
    metrics: HttpMetrics,
  ) {
    // Monitoring's own /metrics carries the lag, so Prometheus can alert on it (deploy/prometheus/rules).
    const lagOf = () => this.processManagers();
    const eventStore = this.store;
    new Gauge({
      name: 'mlp_event_store_head_position',
      help: 'Global position of the last event in the event store',
      registers: [metrics.registry],
      async collect() {
        this.set(await headPosition(eventStore));
      },
    });
    new Gauge({
      name: 'mlp_process_manager_lag_events',
      help: "Events between a process manager's checkpoint and the event store's head",
      labelNames: ['manager'],
      registers: [metrics.registry],
      async collect() {
        const lag = await lagOf();
        for (const m of lag.managers) if (m.lag !== null) this.set({ manager: m.name }, m.lag);
      },
    });
  }

  onApplicationBootstrap(): void {
    if (this.config.intervalMs > 0) {
      this.timer = setInterval(() => void this.scrapeAll(), this.config.intervalMs);
      this.timer.unref();
    }
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  async scrapeAll(): Promise<void> {
    await Promise.all(this.config.targets.map((t) => this.scrape(t.service, t.url)));
  }

  private async scrape(service: ServiceName, url: string): Promise<void> {
    const entry = this.scrapes.get(service) ?? { error: null };
    this.scrapes.set(service, entry);
    try {
      const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(this.config.timeoutMs) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const samples = parsePrometheusText(await res.text());
      entry.previous = entry.last;
      entry.last = { at: Date.now(), samples };
      entry.error = null;
    } catch (err) {
      entry.error = (err as Error).message;
      this.logger.debug({ service, error: entry.error }, 'metrics scrape failed');
    }
  }

  /** Every service's health; scrapes first when a service has fewer than two scrapes (no rate yet) or `fresh`. */
  async services(fresh = false): Promise<ServiceHealthView[]> {
    if (fresh || this.config.targets.some((t) => !this.scrapes.get(t.service)?.previous)) await this.scrapeAll();
    return this.config.targets.map(({ service, url }) => {
      const s = this.scrapes.get(service);
      const last = s?.last;
      const up = !!last && s?.error === null;
      return {
        service,
        url,
        up,
        error: s?.error ?? null,
        scrapedAt: last ? new Date(last.at).toISOString() : null,
        http: last ? httpHealth(last, s?.previous) : null,
        queues: last ? (last.samples.get('serving_queue_depth') ?? []).map((q) => ({ name: 'serving_queue_depth', labels: q.labels, depth: q.value })) : [],
        passThrough: last ? [...last.samples.entries()].filter(([name]) => PASS_THROUGH.test(name)).flatMap(([, list]) => list) : [],
      };
    });
  }

  /** Each process manager's checkpoint against the event store's head position. */
  async processManagers(): Promise<{ head: number; managers: ProcessManagerLag[] }> {
    const head = await headPosition(this.store);
    const checkpoints = this.store.checkpoints();
    // Every checkpoint the store holds (where it can list them), and the platform's managers that have none yet.
    const saved = new Map((await checkpoints.list?.())?.map((c) => [c.name, c.position]) ?? []);
    const names = [...new Set([...saved.keys(), ...this.config.processManagers])].sort();
    const managers = await Promise.all(
      names.map(async (name) => {
        const checkpoint = saved.get(name) ?? (await checkpoints.load(name)) ?? null;
        return { name, checkpoint, head, lag: checkpoint === null ? null : Math.max(0, head - checkpoint) };
      }),
    );
    return { head, managers };
  }
}

/** The global position of the last event: galloping then binary search over readAll pages of one event. */
export async function headPosition(store: EventStore): Promise<number> {
  const exists = async (p: number) => (await store.readAll({ fromPosition: p, maxCount: 1 })).length > 0;
  if (!(await exists(1))) return 0;
  let lo = 1;
  let hi = 2;
  while (await exists(hi)) {
    lo = hi;
    hi *= 2;
  }
  // An event at or after lo exists; none at or after hi.
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (await exists(mid)) lo = mid;
    else hi = mid;
  }
  const [last] = await store.readAll({ fromPosition: lo, maxCount: 1 });
  return last.position;
}
