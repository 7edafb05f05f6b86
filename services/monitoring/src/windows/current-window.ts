import type { PredictionTelemetry } from '@mlp/contracts';
import type { DriftReference, DriftWindow } from '@mlp/ml';
import { ColumnSummary, type ColumnKind } from './column-summary';
import type { DriftWindowEvent, DriftWindowState } from './drift-window.decide';
import { windowKind, type WindowSpec } from './window-spec';

/** The output column's name in windows and reference samples. */
export const PREDICTION_COLUMN = 'prediction';

/**
 * The open window of one served version: libs/ml's DriftWindow (exact up to
 * its limit per numeric column, then a grid and a reservoir; categorical
 * counts) plus a ColumnSummary per column for the report artifact, so its
 * memory does not grow with its rows.
 */
export class CurrentWindow {
  rows = 0;
  from = '';
  to = '';
  private fromMs = NaN;
  private toMs = NaN;
  id = '';
  readonly drift: DriftWindow;
  readonly summaries = new Map<string, ColumnSummary>();
  private readonly row: Record<string, PredictionTelemetry['prediction'] | undefined> = {};

  constructor(
    readonly model: string,
    readonly version: number,
    /** Set at opening from the model's settings; a later policy changes it through `apply` (DriftWindowResized). */
    public spec: WindowSpec,
    reference: DriftReference,
    options: { maxCategories: number; edges?: Readonly<Record<string, readonly number[]>> },
  ) {
    this.drift = reference.window();
    for (const [name, kind] of Object.entries(reference.kinds)) this.summaries.set(name, new ColumnSummary(kind as ColumnKind, options.maxCategories, options.edges?.[name]));
  }

  /** Whether `record` belongs after this window closes (time windows: its time is past the window's end). */
  endsBefore(record: Pick<PredictionTelemetry, 'at'>): boolean {
    return 'durationMs' in this.spec && this.rows > 0 && Date.parse(record.at) - this.fromMs >= this.spec.durationMs;
  }

  /** Epoch ms at which a time window ends (undefined for count windows and empty ones). */
  get endsAt(): number | undefined {
    return 'durationMs' in this.spec && this.rows > 0 ? this.fromMs + this.spec.durationMs : undefined;
  }

  add(record: PredictionTelemetry): void {
    if (this.rows === 0) {
      this.from = record.at;
      this.fromMs = Date.parse(record.at);
      this.id = `${this.version}:${windowKind(this.spec)}:${record.requestId}:${record.row}`;
    }
    this.rows++;
    if (record.at > this.to) {
      this.to = record.at;
      this.toMs = Date.parse(record.at);
    }
    // One reused row object over the reference's columns: no allocation per record.
    const row = this.row;
    for (const [name, summary] of this.summaries) {
      const v = name === PREDICTION_COLUMN ? record.prediction : record.features[name];
      row[name] = v;
      summary.add(v);
    }
    this.drift.pushRow(row);
  }

  /** The window as the drift window decider sees it (drift-window.decide.ts). */
  get state(): DriftWindowState {
    return { status: 'Open', model: this.model, version: this.version, windowId: this.id, spec: this.spec, rows: this.rows, fromMs: this.fromMs, toMs: this.toMs };
  }

  /** Applies a decided event: the window takes the new extent (closing it, when the event says so, is DriftMonitor's). */
  apply(event: DriftWindowEvent): void {
    this.spec = event.data.to;
  }

  /** Count windows close at their size; time windows when a later record arrives (endsBefore) or on flush. */
  get full(): boolean {
    return 'size' in this.spec && this.rows >= this.spec.size;
  }
}
