import { createHash } from 'node:crypto';
import type { ArtifactStore } from '@mlp/artifacts';
import { streams, type EventData } from '@mlp/contracts';
import { aggregate, handleCommand, type EventStore } from '@mlp/eventstore';
import type { LabelledPrediction } from '../performance/feedback-join';
import { onlineUpdateDecider, onlineUpdateId, withinBounds } from './online-update.decide';

/** One row of an online update: the input features as served, and the label that came back. */
export interface OnlineRow {
  features: Record<string, string | number | boolean | null>;
  label: string | number | boolean | null;
}

/** The rows of an update, as stored (JSON, by content hash). */
export interface OnlineRowsArtifact {
  model: string;
  version: number;
  rows: OnlineRow[];
}

/** A model's online-learning bounds, from its policy (null: off). */
export type OnlineBounds = { minLabels: number; minIntervalMinutes: number } | null;

/**
 * Collects labelled rows (features + label) per served version for models
 * whose policy enables online learning. Once `minLabels` rows are in, it
 * stores them and asks the rate-bound decider for an update; a refused
 * request keeps the newest rows (at most 10 × minLabels) and asks again after
 * another `minLabels` rows. Only events and an artifact come out: the served
 * version itself is never touched.
 */
export class OnlineLearning {
  private readonly buffers = new Map<string, { rows: OnlineRow[]; sinceAttempt: number }>();

  constructor(
    private readonly store: EventStore,
    private readonly artifacts: ArtifactStore,
    private readonly bounds: (model: string) => OnlineBounds,
    private readonly options: { codeVersion: string; actor?: string },
  ) {}

  /** A joined label; resolves to the update requested, if this row completed one. */
  async add(row: LabelledPrediction): Promise<EventData<'OnlineUpdateRequested'> | undefined> {
    const bounds = this.bounds(row.model);
    const key = `${row.model}:${row.version}`;
    if (!bounds || !row.features) {
      this.buffers.delete(key);
      return undefined;
    }
    let buffer = this.buffers.get(key);
    if (!buffer) this.buffers.set(key, (buffer = { rows: [], sinceAttempt: 0 }));
    buffer.rows.push({ features: row.features, label: row.label });
    buffer.sinceAttempt++;
    if (buffer.rows.length > bounds.minLabels * 10) buffer.rows.shift();
    if (buffer.rows.length < bounds.minLabels || buffer.sinceAttempt < bounds.minLabels) return undefined;
    buffer.sinceAttempt = 0;
    const stream = streams.monitor(row.model);
    // Checked before storing the rows; the decider checks again (and dedupes) on append.
    if (!withinBounds(aggregate(onlineUpdateDecider, await this.store.readStream(stream)), buffer.rows.length, row.labelledAt)) return undefined;
    const body: OnlineRowsArtifact = { model: row.model, version: row.version, rows: buffer.rows };
    const bytes = Buffer.from(JSON.stringify(body));
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const { key: rowsArtifactKey } = await this.artifacts.put(bytes, { contentType: 'application/json', size: bytes.length });
    const command = { type: 'RequestOnlineUpdate' as const, model: row.model, version: row.version, rows: buffer.rows.length, rowsArtifactKey, sha256, at: row.labelledAt };
    const id = onlineUpdateId(row.version, sha256);
    const meta = { now: new Date().toISOString(), correlationId: `online-${row.model}-${id}`, causationId: null, actor: this.options.actor ?? 'monitoring' };
    const result = await handleCommand(this.store, stream, onlineUpdateDecider, command, meta, { codeVersion: this.options.codeVersion });
    if (result.events.length === 0) return undefined;
    this.buffers.delete(key); // these rows are in the update; the next one collects new rows
    return result.events[0].data as EventData<'OnlineUpdateRequested'>;
  }
}
