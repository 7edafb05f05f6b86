import { categories, type RecordedEvent } from '@mlp/contracts';
import type { VerifiableProjection } from '@mlp/eventstore';
import type { VersionRecord } from './dataset';

export interface DatasetView {
  name: string;
  description: string;
  schemaHash: string | null;
  schema: Record<string, unknown> | null;
  createdAt: string;
  versions: (VersionRecord & { createdAt: string; schemaChanges: Record<string, unknown>[]; failedChecks: { check: string; message: string }[] })[];
}

/** Datasets and their versions, from `dataset-*` streams. */
export class DatasetsProjection implements VerifiableProjection {
  readonly name = 'ingestion.datasets';
  readonly version = 1;
  readonly filter = { category: categories.dataset };
  private readonly datasets = new Map<string, DatasetView>();

  canHandle(event: RecordedEvent): boolean {
    return event.stream.startsWith(`${categories.dataset}-`);
  }

  handle(event: RecordedEvent): void {
    const data = event.data as { dataset: string; version?: number };
    if (event.type === 'DatasetRegistered') {
      this.datasets.set(data.dataset, {
        name: data.dataset,
        description: (event.data as { description: string }).description,
        schemaHash: null,
        schema: null,
        createdAt: event.occurredAt,
        versions: [],
      });
      return;
    }
    const dataset = this.datasets.get(data.dataset);
    if (!dataset) return;
    switch (event.type) {
      case 'DatasetSchemaDeclared': {
        const d = event.data as { schemaHash: string; schema: Record<string, unknown> };
        dataset.schemaHash = d.schemaHash;
        dataset.schema = d.schema;
        break;
      }
      case 'DatasetVersionIngested':
        dataset.versions.push({ ...(event.data as VersionRecord), createdAt: event.occurredAt, schemaChanges: [], failedChecks: [] });
        break;
      case 'SchemaChangeDetected': {
        const v = dataset.versions.find((x) => x.version === data.version);
        if (v) v.schemaChanges = (event.data as { diff: Record<string, unknown>[] }).diff;
        break;
      }
      case 'DataQualityCheckFailed': {
        const v = dataset.versions.find((x) => x.version === data.version);
        if (v) v.failedChecks = (event.data as { checks: { check: string; message: string }[] }).checks;
        break;
      }
    }
  }

  reset(): void {
    this.datasets.clear();
  }

  /** Every dataset and version as plain data (mlp replay projections compares it with a rebuild). */
  snapshot(): unknown {
    return { datasets: this.datasets };
  }

  get(name: string): DatasetView | undefined {
    return this.datasets.get(name);
  }

  list(): DatasetView[] {
    return [...this.datasets.values()].sort((a, b) => a.name.localeCompare(b.name));
  }
}
