import { deterministicId, streams, toNewEvent, type DomainEventInput, type FeedbackTelemetry, type PredictionTelemetry } from '@mlp/contracts';
import type { EventStore } from '@mlp/eventstore';
import type { ReferenceLoader } from '../drift/reference';
import type { MonitoringSettings } from '../windows/monitoring-settings';
import { degradation } from './degradation';
import type { OnlineLearning } from '../online/online-learning';
import { FeedbackJoin, type FeedbackJoinOptions, type LabelledPrediction } from './feedback-join';
import { PerformanceWindow, scoreLabelled } from './performance-window';

/**
 * Concept drift: labels joined to predictions (FeedbackJoin), then a sliding
 * window per version and arm scored every `step` labels against the
 * version's holdout metrics. Appends PerformanceEvaluated, and
 * PerformanceDegraded when the model's rule (from its policy) breaks; ids
 * derive from (version, arm, label count), so re-reading appends nothing new.
 */
export class PerformanceMonitor {
  readonly join: FeedbackJoin;
  private readonly windows = new Map<string, PerformanceWindow>();
  /** While true (a restart replays acked telemetry): joins and windows fill; nothing is scored, appended or learned. */
  replaying = false;

  constructor(
    private readonly store: EventStore,
    private readonly references: ReferenceLoader,
    private readonly settings: MonitoringSettings,
    private readonly options: { codeVersion: string; actor?: string; online?: OnlineLearning } & FeedbackJoinOptions,
  ) {
    this.join = new FeedbackJoin(options);
  }

  /**
   * After a restart that resumes the telemetry (JetStream): the count of
   * labels joined so far for this version and arm, from the stored events, so
   * window ids go on instead of repeating. A window the replay of acked
   * telemetry rebuilt keeps its rows, and its own count unless the stored one
   * is higher (records expired from the stream).
   */
  resume(model: string, version: number, arm: string, seq: number): void {
    const key = `${model}:${version}:${arm}`;
    const conf = this.settings.get(model).performance;
    const window = this.windows.get(key) ?? new PerformanceWindow(conf.window, conf.step);
    window.seq = Math.max(window.seq, seq);
    this.windows.set(key, window);
  }

  async addPrediction(p: PredictionTelemetry): Promise<void> {
    const joined = this.join.addPrediction(p);
    if (joined) await this.labelled(joined);
    if (joined && !this.replaying) await this.options.online?.add(joined);
  }

  async addFeedback(f: FeedbackTelemetry): Promise<void> {
    const joined = this.join.addLabel(f);
    if (joined) await this.labelled(joined);
    if (joined && !this.replaying) await this.options.online?.add(joined);
  }

  private async labelled(row: LabelledPrediction): Promise<void> {
    const key = `${row.model}:${row.version}:${row.arm}`;
    const conf = this.settings.get(row.model).performance;
    let window = this.windows.get(key);
    if (!window) this.windows.set(key, (window = new PerformanceWindow(conf.window, conf.step)));
    if (!window.add(row) || this.replaying) return;
    const reference = await this.references.load(row.model, row.version);
    if (!reference?.task) return; // without the run's task and classes the labels cannot be scored
    const rows = window.contents();
    const scored = scoreLabelled(rows, reference.task, reference.classes);
    if (scored.labelled === 0) return;
    const times = rows.map((r) => r.predictedAt).sort();
    const events: DomainEventInput[] = [
      {
        type: 'PerformanceEvaluated',
        data: {
          model: row.model,
          version: row.version,
          arm: row.arm,
          labelled: scored.labelled,
          ...(scored.correct !== undefined ? { correct: scored.correct } : {}),
          metrics: scored.metrics,
          reference: reference.metrics,
          from: times[0],
          to: times[times.length - 1],
          seq: window.seq,
        },
      },
    ];
    const broken = conf.rule ? degradation(conf.rule, scored.metrics, reference.metrics) : null;
    if (broken && conf.rule) {
      events.push({
        type: 'PerformanceDegraded',
        data: {
          model: row.model,
          version: row.version,
          arm: row.arm,
          metric: conf.rule.metric,
          value: scored.metrics[conf.rule.metric],
          ...(reference.metrics[conf.rule.metric] !== undefined ? { reference: reference.metrics[conf.rule.metric] } : {}),
          rule: broken,
          windowSeq: window.seq,
        },
      });
    }
    const id = `${row.version}:${row.arm}:${window.seq}`;
    const meta = { now: new Date().toISOString(), correlationId: `performance-${row.model}-${id}`, causationId: null, actor: this.options.actor ?? 'monitoring' };
    await this.store.appendToStream(
      streams.monitor(row.model),
      events.map((e) => toNewEvent(e, meta, { codeVersion: this.options.codeVersion, id: deterministicId('monitoring.performance', row.model, id, e.type) })),
    );
  }
}
