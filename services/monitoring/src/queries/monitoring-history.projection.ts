import { categories, type ArmStats, type DriftHistoryQuery, type EventData, type PerformanceHistoryQuery, type RecordedEvent } from '@mlp/contracts';
import type { VerifiableProjection } from '@mlp/eventstore';

/** Entries kept per model and kind (the oldest leave first); the events stay in the store. */
const KEEP = 10_000;

export type DriftReportView = EventData<'DriftReportComputed'> & { at: string; eventId: string; detected: boolean };
export type PerformanceView = EventData<'PerformanceEvaluated'> & { at: string; degraded: string | null };

/** Drift reports and performance windows over time per model, rebuilt from `monitor-*` streams. */
export class MonitoringHistoryProjection implements VerifiableProjection {
  readonly name = 'monitoring.history';
  readonly version = 1;
  readonly filter = { category: categories.monitor };
  private readonly drift = new Map<string, DriftReportView[]>();
  private readonly performance = new Map<string, PerformanceView[]>();

  canHandle(event: RecordedEvent): boolean {
    return ['DriftReportComputed', 'DriftDetected', 'PerformanceEvaluated', 'PerformanceDegraded'].includes(event.type);
  }

  handle(event: RecordedEvent): void {
    switch (event.type) {
      case 'DriftReportComputed': {
        const d = event.data as EventData<'DriftReportComputed'>;
        push(this.drift, d.model, { ...d, at: d.window.to, eventId: event.id, detected: false });
        break;
      }
      case 'DriftDetected': {
        const d = event.data as EventData<'DriftDetected'>;
        const report = this.drift.get(d.model)?.findLast((r) => r.window.id === d.windowId);
        if (report) report.detected = true;
        break;
      }
      case 'PerformanceEvaluated': {
        const d = event.data as EventData<'PerformanceEvaluated'>;
        push(this.performance, d.model, { ...d, at: d.to, degraded: null });
        break;
      }
      case 'PerformanceDegraded': {
        const d = event.data as EventData<'PerformanceDegraded'>;
        const p = this.performance.get(d.model)?.findLast((r) => r.version === d.version && r.arm === d.arm && r.seq === d.windowSeq);
        if (p) p.degraded = d.rule;
        break;
      }
    }
  }

  reset(): void {
    this.drift.clear();
    this.performance.clear();
  }

  /** Drift and performance history as plain data (mlp replay projections compares it with a rebuild). */
  snapshot(): unknown {
    return { drift: this.drift, performance: this.performance };
  }

  /** Reports oldest first; with `feature`, that feature's test per report. */
  driftHistory(q: DriftHistoryQuery) {
    const reports = inRange(this.drift.get(q.model) ?? [], q).filter((r) => q.version === undefined || r.version === q.version);
    if (q.feature === undefined) return { model: q.model, reports: reports.slice(-q.limit) };
    const points = reports.flatMap((r) => {
      const f = q.feature === 'prediction' ? r.prediction : r.features.find((x) => x.name === q.feature);
      return f ? [{ at: r.at, version: r.version, windowId: r.window.id, rows: r.window.rows, ...f }] : [];
    });
    return { model: q.model, feature: q.feature, points: points.slice(-q.limit) };
  }

  performanceHistory(q: PerformanceHistoryQuery) {
    const points = inRange(this.performance.get(q.model) ?? [], q).filter((p) => (q.version === undefined || p.version === q.version) && (q.arm === undefined || p.arm === q.arm));
    return { model: q.model, points: points.slice(-q.limit) };
  }

  /** The latest classification window of each arm. */
  latestArms(model: string): ArmStats[] {
    const latest = new Map<string, PerformanceView>();
    for (const p of this.performance.get(model) ?? []) if (p.correct !== undefined) latest.set(p.arm, p);
    return [...latest.values()].map((p) => ({ arm: p.arm, version: p.version, labelled: p.labelled, correct: p.correct!, accuracy: p.correct! / p.labelled }));
  }

  /** The highest window sequence evaluated per model, version and arm. */
  performanceSequences(): { model: string; version: number; arm: string; seq: number }[] {
    const out = new Map<string, { model: string; version: number; arm: string; seq: number }>();
    for (const [model, points] of this.performance) {
      for (const p of points) {
        const key = `${model}:${p.version}:${p.arm}`;
        if ((out.get(key)?.seq ?? 0) < p.seq) out.set(key, { model, version: p.version, arm: p.arm, seq: p.seq });
      }
    }
    return [...out.values()];
  }
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  let list = map.get(key);
  if (!list) map.set(key, (list = []));
  list.push(value);
  if (list.length > KEEP) list.splice(0, list.length - KEEP);
}

function inRange<T extends { at: string }>(items: readonly T[], q: { from?: string; to?: string }): T[] {
  const from = q.from ? Date.parse(q.from) : -Infinity;
  const to = q.to ? Date.parse(q.to) : Infinity;
  return items.filter((i) => {
    const t = Date.parse(i.at);
    return t >= from && t <= to;
  });
}
