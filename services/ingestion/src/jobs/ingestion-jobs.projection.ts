import { categories, type EventData, type RecordedEvent } from '@mlp/contracts';
import type { VerifiableProjection } from '@mlp/eventstore';

export interface IngestionJobView {
  jobId: string;
  dataset: string;
  status: 'running' | 'completed' | 'failed';
  started: EventData<'IngestionStarted'>;
  startedAt: string;
  endedAt: string | null;
  retries: { attempt: number; error: string; delayMs: number }[];
  version: number | null;
  duplicateOf: number | null;
  error: string | null;
}

/** Ingestion jobs by id, from `ingestion-*` streams: status for clients and crash recovery. */
export class IngestionJobsProjection implements VerifiableProjection {
  readonly name = 'ingestion.jobs';
  readonly version = 1;
  readonly filter = { category: categories.ingestion };
  private readonly jobs = new Map<string, IngestionJobView>();

  canHandle(): boolean {
    return true;
  }

  handle(event: RecordedEvent): void {
    const data = event.data as { jobId: string };
    if (event.type === 'IngestionStarted') {
      const started = event.data as EventData<'IngestionStarted'>;
      this.jobs.set(data.jobId, {
        jobId: data.jobId,
        dataset: started.dataset,
        status: 'running',
        started,
        startedAt: event.occurredAt,
        endedAt: null,
        retries: [],
        version: null,
        duplicateOf: null,
        error: null,
      });
      return;
    }
    const job = this.jobs.get(data.jobId);
    if (!job) return;
    if (event.type === 'IngestionRetried') {
      const d = event.data as EventData<'IngestionRetried'>;
      job.retries.push({ attempt: d.attempt, error: d.error, delayMs: d.delayMs });
    } else if (event.type === 'IngestionCompleted') {
      const d = event.data as EventData<'IngestionCompleted'>;
      Object.assign(job, { status: 'completed', endedAt: event.occurredAt, version: d.version, duplicateOf: d.duplicateOf });
    } else if (event.type === 'IngestionFailed') {
      Object.assign(job, { status: 'failed', endedAt: event.occurredAt, error: (event.data as EventData<'IngestionFailed'>).error });
    }
  }

  reset(): void {
    this.jobs.clear();
  }

  /** Every job as plain data (mlp replay projections compares it with a rebuild). */
  snapshot(): unknown {
    return { jobs: this.jobs };
  }

  get(jobId: string): IngestionJobView | undefined {
    return this.jobs.get(jobId);
  }

  running(): IngestionJobView[] {
    return [...this.jobs.values()].filter((j) => j.status === 'running');
  }
}
