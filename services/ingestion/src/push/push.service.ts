import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { InfrastructureError, pushSourceUri, type IngestionOutcome, type PushRowsResult } from '@mlp/contracts';
import { parseDatasetSchema } from '@mlp/data';
import { ApiKeyRing, commandMetadata, SERVICE_CONFIG, SERVICE_LOGGER, type BaseConfig, type Logger } from '@mlp/service-kit';
import { IngestionJobsService } from '../jobs/ingestion-jobs.service';
import { pushApiKeys } from './api-keys';
import { PUSH_CONFIG, type PushConfig } from './push-config';
import type { PushedLine } from './push-rows';
import { countLines, DatasetSpool } from './push-spool';
import { validatePushedRows } from './push-validation';

const DATASET_DIR = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
const MAX_RETRY_MS = 60_000;

/** One dataset's spool and the work queued on it. */
interface SpoolState {
  dataset: string;
  spool: DatasetSpool;
  /** Rows in `current.ndjson`. */
  current: number;
  /** Rows of each rotated batch not yet in a version. */
  batches: Map<string, number>;
  /** Appends and rotations, one at a time. */
  lock: Promise<unknown>;
  /** Flushes (ingestions), one at a time. */
  flushing: Promise<unknown>;
  timer?: NodeJS.Timeout;
  retry?: NodeJS.Timeout;
  failures: number;
  /** Outcomes of batches a push request is waiting for. */
  awaited: Map<string, IngestionOutcome | null>;
}

const settled = (outcome: IngestionOutcome): boolean => outcome.status === 'accepted' || outcome.status === 'rejected' || outcome.status === 'duplicate';

/**
 * HTTP push: rows are validated at once (the reply explains every rejected
 * row), then appended with fsync to the dataset's spool, accepted and rejected
 * alike. The spool becomes one version per flush (row count or age), through
 * the ingestion job, which quarantines the rejected rows again with their
 * reasons: nothing is lost, everything is explained. A batch file is deleted
 * only once its version is stored; leftovers are flushed on start-up, and
 * re-ingesting a batch whose version was stored just before a crash is
 * reported as a duplicate, so it never makes a second version.
 */
@Injectable()
export class PushService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly root: string;
  private readonly states = new Map<string, SpoolState>();
  private closing = false;

  constructor(
    private readonly jobs: IngestionJobsService,
    @Inject(PUSH_CONFIG) private readonly config: PushConfig,
    @Inject(SERVICE_CONFIG) serviceConfig: BaseConfig,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
    keys: ApiKeyRing,
  ) {
    // Push always needs a key: these (scope push), or any key with push, write or admin.
    const pushKeys = pushApiKeys(config);
    keys.addEnvKeys('ingest-push', pushKeys, ['push']);
    this.root = resolve(serviceConfig.MLP_HOME, 'spool', 'push');
    if (pushKeys.length === 0 && !keys.storeBacked) this.logger.warn('HTTP push is disabled until MLP_INGEST_API_KEYS or MLP_INGEST_API_KEYS_FILE is set');
  }

  get maxBodyBytes(): number {
    return this.config.MLP_PUSH_MAX_BYTES;
  }

  /** Leftover spools of a previous run: torn tails dropped, current files rotated, all batches flushed. */
  async onApplicationBootstrap(): Promise<void> {
    const names = await readdir(this.root).catch(() => [] as string[]);
    for (const dataset of names.filter((n) => DATASET_DIR.test(n))) {
      const state = this.state(dataset);
      await this.locked(state, async () => {
        state.current = await state.spool.repair();
        await this.rotate(state);
        for (const batch of await state.spool.batches()) if (!state.batches.has(batch)) state.batches.set(batch, await countLines(batch));
      });
      if (state.batches.size > 0) {
        this.logger.info({ dataset, batches: state.batches.size }, 'flushing push spool left by a previous run');
        void this.flush(state);
      }
    }
  }

  async onModuleDestroy(): Promise<void> {
    this.closing = true;
    for (const state of this.states.values()) {
      clearTimeout(state.timer);
      clearTimeout(state.retry);
    }
    // What is spooled stays on disk: the next start flushes it.
    await Promise.allSettled([...this.states.values()].flatMap((s) => [s.lock, s.flushing]));
  }

  async push(dataset: string, lines: readonly PushedLine[]): Promise<PushRowsResult> {
    const declared = this.jobs.datasets.get(dataset)?.schema;
    const reasons = await validatePushedRows(dataset, lines, declared ? parseDatasetSchema(declared) : undefined);
    const state = this.state(dataset);
    const rotated = await this.locked(state, async () => {
      await state.spool.append(lines).catch((cause: unknown) => {
        throw new InfrastructureError(`cannot write the push spool of '${dataset}': ${(cause as Error).message}`, { cause, code: 'SPOOL_WRITE_FAILED' });
      });
      state.current += lines.length;
      if (state.current >= this.config.MLP_PUSH_FLUSH_ROWS) return this.rotate(state);
      if (!state.timer) state.timer = setTimeout(() => void this.flushOnTimer(state), this.config.MLP_PUSH_FLUSH_MS).unref();
      return null;
    });
    const flushed = rotated ? await this.flushFor(state, rotated) : null;
    return {
      dataset,
      accepted: lines.length - reasons.length,
      rejected: reasons.length,
      reasons,
      buffered: this.buffered(state),
      flushed,
    };
  }

  /** Flushes and returns the outcome of `batch`, or of the failure that stopped the flush before it. */
  private async flushFor(state: SpoolState, batch: string): Promise<IngestionOutcome | null> {
    state.awaited.set(batch, null);
    try {
      const outcomes = await this.flush(state);
      const last = [...outcomes.values()].pop();
      return state.awaited.get(batch) ?? (last && !settled(last) ? last : null);
    } finally {
      state.awaited.delete(batch);
    }
  }

  private async flushOnTimer(state: SpoolState): Promise<void> {
    if (this.closing) return;
    await this.locked(state, () => this.rotate(state));
    await this.flush(state);
  }

  /** Under the lock: `current.ndjson` becomes a batch; the age timer stops. */
  private async rotate(state: SpoolState): Promise<string | null> {
    clearTimeout(state.timer);
    state.timer = undefined;
    const batch = await state.spool.rotate();
    if (batch) state.batches.set(batch, state.current);
    state.current = 0;
    return batch;
  }

  /**
   * Ingests the dataset's batches oldest first, one flush at a time; stops at
   * the first failure (order is kept) and retries later. Resolves with the
   * outcome of each batch it ingested.
   */
  private flush(state: SpoolState): Promise<Map<string, IngestionOutcome>> {
    const run = state.flushing.then(async () => {
      const outcomes = new Map<string, IngestionOutcome>();
      for (const batch of await state.spool.batches()) {
        if (this.closing) break;
        const outcome = await this.jobs.ingest({
          dataset: state.dataset,
          source: { kind: 'push', path: batch, uri: pushSourceUri },
          format: 'ndjson',
          meta: { ...commandMetadata(), actor: 'http-push' },
        });
        outcomes.set(batch, outcome);
        if (state.awaited.has(batch)) state.awaited.set(batch, outcome);
        if (!settled(outcome)) {
          this.scheduleRetry(state, outcome);
          break;
        }
        await state.spool.remove(batch);
        state.batches.delete(batch);
        state.failures = 0;
        this.logger.info({ dataset: state.dataset, version: outcome.version ?? outcome.duplicateOf, status: outcome.status, rows: outcome.rows }, 'push spool flushed');
      }
      return outcomes;
    });
    state.flushing = run.catch((err: unknown) => this.scheduleRetry(state, err));
    return run.catch((err: unknown) => {
      this.logger.error({ err, dataset: state.dataset }, 'push flush failed; the spool is kept');
      return new Map<string, IngestionOutcome>();
    });
  }

  private scheduleRetry(state: SpoolState, cause: IngestionOutcome | unknown): void {
    state.failures++;
    const delay = Math.min(this.config.MLP_PUSH_FLUSH_MS * 2 ** (state.failures - 1), MAX_RETRY_MS);
    const error = (cause as IngestionOutcome)?.error ?? (cause as Error)?.message;
    this.logger.warn({ dataset: state.dataset, error, retryInMs: delay }, 'push flush did not store a version; the spool is kept and retried');
    if (this.closing) return;
    clearTimeout(state.retry);
    state.retry = setTimeout(() => void this.flush(state), delay).unref();
  }

  private buffered(state: SpoolState): number {
    let rows = state.current;
    for (const n of state.batches.values()) rows += n;
    return rows;
  }

  private state(dataset: string): SpoolState {
    let state = this.states.get(dataset);
    if (!state) {
      state = { dataset, spool: new DatasetSpool(join(this.root, dataset)), current: 0, batches: new Map(), lock: Promise.resolve(), flushing: Promise.resolve(), failures: 0, awaited: new Map() };
      this.states.set(dataset, state);
    }
    return state;
  }

  private locked<T>(state: SpoolState, fn: () => Promise<T>): Promise<T> {
    const run = state.lock.then(fn);
    state.lock = run.catch(() => undefined);
    return run;
  }
}
