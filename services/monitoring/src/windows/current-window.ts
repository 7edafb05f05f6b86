import type { PredictionTelemetry } from '@mlp/contracts';
import { ColumnSketch, type ColumnKind, type SketchOptions } from './column-sketch';
import { windowKind, type WindowSpec } from './window-spec';

/** The output column's name in windows and reference samples. */
export const PREDICTION_COLUMN = 'prediction';

/**
 * The open window of one served version: a ColumnSketch per reference column
 * (and the model output), so its memory does not grow with its rows.
 */
export class CurrentWindow {
  rows = 0;
  from = '';
  to = '';
  private fromMs = NaN;
  id = '';
  readonly columns = new Map<string, ColumnSketch>();

  constructor(
    readonly model: string,
    readonly version: number,
    readonly spec: WindowSpec,
    kinds: Readonly<Record<string, ColumnKind>>,
    options: Omit<SketchOptions, 'seed'> & { seed: number },
  ) {
    let i = 0;
    for (const [name, kind] of Object.entries(kinds)) this.columns.set(name, new ColumnSketch(kind, { ...options, seed: (options.seed + 7919 * ++i) >>> 0 }));
  }

  /** Whether `record` belongs after this window closes (time windows: its time is past the window's end). */
  endsBefore(record: Pick<PredictionTelemetry, 'at'>): boolean {
    return 'durationMs' in this.spec && this.rows > 0 && Date.parse(record.at) - this.fromMs >= this.spec.durationMs;
  }

  add(record: PredictionTelemetry): void {
    if (this.rows === 0) {
      this.from = record.at;
      this.fromMs = Date.parse(record.at);
      this.id = `${this.version}:${windowKind(this.spec)}:${record.requestId}:${record.row}`;
    }
    this.rows++;
    if (record.at > this.to) this.to = record.at;
    for (const [name, sketch] of this.columns) sketch.add(name === PREDICTION_COLUMN ? record.prediction : record.features[name]);
  }

  /** Count windows close at their size; time windows when a later record arrives (endsBefore) or on flush. */
  get full(): boolean {
    return 'size' in this.spec && this.rows >= this.spec.size;
  }
}
