import type { ArtifactStore } from '@mlp/artifacts';
import { deterministicId, streams, toNewEvent, type DomainEventInput, type PredictionTelemetry } from '@mlp/contracts';
import type { EventStore } from '@mlp/eventstore';
import type { Logger } from '@mlp/service-kit';
import { CurrentWindow } from '../windows/current-window';
import { decideDriftWindow } from '../windows/drift-window.decide';
import { histogramEdges } from '../windows/column-summary';
import type { WindowCheckpoints } from '../windows/telemetry-source';
import { windowKind, type WindowSpec } from '../windows/window-spec';
import type { MonitoringSettings } from '../windows/monitoring-settings';
import type { Reference, ReferenceLoader } from './reference';
import { prepareReference, windowDrift, type PreparedReference } from './window-drift';

export interface DriftMonitorOptions {
  /** Values per numeric column a window keeps for exact tests (libs/ml's exactLimit). */
  sampleCap: number;
  maxCategories: number;
  seed: number;
  codeVersion: string;
  actor?: string;
}

/**
 * Data drift of every served version: predictions fill the version's open
 * window; a closed window is tested against the version's reference, the
 * full report is stored as an artifact, and DriftReportComputed (then
 * DriftDetected on dataset or prediction drift) is appended to
 * `monitor-<model>` with ids derived from the window, so reading the same
 * telemetry again appends nothing new.
 */
export class DriftMonitor {
  private readonly open = new Map<string, { window: CurrentWindow; prepared: PreparedReference }>();
  /** Prepared references by version and the drift settings they were built with. */
  private readonly prepared = new Map<string, { settings: string; prepared: PreparedReference }>();
  /** Versions without a baseline, logged once each. */
  private readonly unmonitored = new Set<string>();
  reports = 0;
  /** Set by a source that acknowledges records before their windows close (JetStream). */
  checkpoints?: WindowCheckpoints;

  constructor(
    private readonly store: EventStore,
    private readonly artifacts: ArtifactStore,
    private readonly references: ReferenceLoader,
    private readonly settings: MonitoringSettings,
    private readonly options: DriftMonitorOptions,
    private readonly logger?: Logger,
  ) {}

  /** Whether a window of this version is open. */
  isOpen(model: string, version: number): boolean {
    return this.open.has(`${model}:${version}`);
  }

  /** One prediction; `seq` (its stream position) is checkpointed when it opens a window. */
  async add(record: PredictionTelemetry, seq?: number): Promise<void> {
    const key = `${record.model}:${record.version}`;
    let open = this.open.get(key);
    if (open?.window.endsBefore(record)) {
      this.open.delete(key);
      await this.close(open.window, open.prepared);
      open = undefined;
    }
    if (!open) {
      const reference = await this.references.load(record.model, record.version);
      if (!reference || reference.missing) {
        if (!this.unmonitored.has(key)) this.logger?.warn({ model: record.model, version: record.version, reason: reference?.missing ?? 'version not registered' }, 'no drift reference for this version; its telemetry is not tested for drift');
        this.unmonitored.add(key);
        return;
      }
      const prepared = this.prepare(key, reference);
      const edges = Object.fromEntries(Object.entries(reference.sample).flatMap(([name, values]) => (values instanceof Float64Array ? [[name, histogramEdges(values)]] : [])));
      open = { window: new CurrentWindow(record.model, record.version, this.settings.get(record.model).window, prepared.drift, { ...this.options, edges }), prepared };
      this.open.set(key, open);
      if (seq !== undefined) await this.checkpoints?.opened(record.model, record.version, seq);
    }
    open.window.add(record);
    if (open.window.full) {
      this.open.delete(key);
      await this.close(open.window, open.prepared);
    }
  }

  /**
   * A policy (MonitoringPolicyApplied, `cause`) set the model's window to
   * `spec`: each open window of the model adopts it as decideDriftWindow
   * decides, DriftWindowResized recorded first, and the window closed at
   * once when it already holds enough. Ids derive from the window and the
   * policy, so the same decision read again records nothing new.
   */
  async adopt(model: string, spec: WindowSpec, policySha256: string, cause: { eventId: string; correlationId: string }): Promise<void> {
    for (const [key, o] of [...this.open]) {
      if (o.window.model !== model) continue;
      const events = decideDriftWindow({ type: 'AdoptWindowSpec', spec, policySha256 }, o.window.state);
      if (events.length === 0) continue;
      const meta = { now: new Date().toISOString(), correlationId: cause.correlationId, causationId: cause.eventId, actor: this.options.actor ?? 'monitoring' };
      await this.store.appendToStream(
        streams.monitor(model),
        events.map((e) => toNewEvent(e, meta, { codeVersion: this.options.codeVersion, id: deterministicId('monitoring.drift', model, o.window.id, e.type, policySha256) })),
      );
      for (const e of events) o.window.apply(e);
      if (events.some((e) => e.data.closes)) {
        this.open.delete(key);
        await this.close(o.window, o.prepared);
      }
    }
  }

  /** Closes every open window (time windows at shutdown or on demand). */
  async flush(): Promise<void> {
    const open = [...this.open.values()];
    this.open.clear();
    for (const o of open) await this.close(o.window, o.prepared);
  }

  /**
   * Closes the time windows whose end is `graceMs` or more before `nowMs`
   * (called on a timer: a window closes even when its traffic stops).
   */
  async closeExpired(nowMs: number, graceMs: number): Promise<void> {
    for (const [key, o] of [...this.open]) {
      if (o.window.endsAt === undefined || o.window.endsAt + graceMs > nowMs) continue;
      this.open.delete(key);
      await this.close(o.window, o.prepared);
    }
  }

  /** The version's reference prepared with the model's current drift settings (rebuilt when a policy changes them). */
  private prepare(key: string, reference: Reference): PreparedReference {
    const drift = this.settings.get(reference.model).drift;
    const settings = JSON.stringify(drift);
    const cached = this.prepared.get(key);
    if (cached?.settings === settings) return cached.prepared;
    const prepared = prepareReference(reference, { features: drift.features, shareThreshold: drift.shareThreshold, exactLimit: this.options.sampleCap, seed: this.options.seed });
    if (prepared.warnings.length) this.logger?.warn({ model: reference.model, version: reference.version, warnings: prepared.warnings }, 'drift overrides ignored');
    this.prepared.set(key, { settings, prepared });
    return prepared;
  }

  private async close(window: CurrentWindow, prepared: PreparedReference): Promise<void> {
    const reference = await this.references.load(window.model, window.version);
    if (!reference || reference.missing || !reference.sampleArtifactKey) return;
    const drift = windowDrift(window, prepared.shareThreshold);
    const sampledRows = Math.min(window.rows, this.options.sampleCap);
    const windowInfo = { id: window.id, kind: windowKind(window.spec), rows: window.rows, from: window.from, to: window.to, sampledRows };
    const full = {
      model: window.model,
      version: window.version,
      window: windowInfo,
      reference: { runId: reference.runId, rows: reference.rows, sampleArtifactKey: reference.sampleArtifactKey, sampleRows: reference.sampleRows },
      ...drift,
      warnings: prepared.warnings,
      columns: Object.fromEntries(window.summaries),
    };
    const bytes = Buffer.from(JSON.stringify(full, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)));
    const { key: reportArtifactKey } = await this.artifacts.put(bytes, { contentType: 'application/json', size: bytes.length });
    const finite = (x: number | null) => (x === null || !Number.isFinite(x) ? null : x);
    const features = drift.features.map((f) => ({ ...f, statistic: finite(f.statistic), pValue: finite(f.pValue) }));
    const prediction = drift.prediction ? { ...drift.prediction, statistic: finite(drift.prediction.statistic), pValue: finite(drift.prediction.pValue) } : null;
    const events: DomainEventInput[] = [
      {
        type: 'DriftReportComputed',
        data: {
          model: window.model,
          version: window.version,
          window: windowInfo,
          reference: { runId: reference.runId, rows: reference.rows, sampleArtifactKey: reference.sampleArtifactKey },
          features,
          prediction,
          driftShare: drift.driftShare,
          shareThreshold: drift.shareThreshold,
          datasetDrift: drift.datasetDrift,
          reportArtifactKey,
        },
      },
    ];
    if (drift.datasetDrift || drift.prediction?.drifted) {
      events.push({
        type: 'DriftDetected',
        data: {
          model: window.model,
          version: window.version,
          windowId: window.id,
          driftedFeatures: drift.features.filter((f) => f.drifted).map((f) => f.name),
          driftShare: drift.driftShare,
          datasetDrift: drift.datasetDrift,
          predictionDrift: drift.prediction?.drifted ?? false,
          reportArtifactKey,
        },
      });
    }
    const meta = { now: new Date().toISOString(), correlationId: `drift-${window.model}-${window.id}`, causationId: null, actor: this.options.actor ?? 'monitoring' };
    await this.store.appendToStream(
      streams.monitor(window.model),
      events.map((e) => toNewEvent(e, meta, { codeVersion: this.options.codeVersion, id: deterministicId('monitoring.drift', window.model, window.id, e.type) })),
    );
    this.reports++;
    await this.checkpoints?.closed(window.model, window.version);
  }
}
