import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Inject, Injectable } from '@nestjs/common';
import type { Response } from 'express';
import type { ArtifactStore } from '@mlp/artifacts';
import { NotFoundError, streams, ValidationError, type CommandMetadata, type RegisterDatasetDto } from '@mlp/contracts';
import { schemaHash, type DatasetSchema } from '@mlp/data';
import { handleCommand, type EventStore } from '@mlp/eventstore';
import { ARTIFACT_STORE, EVENT_STORE, sendArtifact } from '@mlp/service-kit';
import { IngestionJobsService } from '../jobs/ingestion-jobs.service';
import { openDuck } from '@mlp/duckdb';
import { literal } from '@mlp/duckdb';
import { datasetDecider } from './dataset.decide';
import type { DatasetView } from './datasets.projection';

/** Dataset commands and queries (the read model lives with the job runner, which also writes versions). */
@Injectable()
export class DatasetsService {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(ARTIFACT_STORE) private readonly artifacts: ArtifactStore,
    private readonly jobs: IngestionJobsService,
  ) {}

  async register(dto: RegisterDatasetDto, meta: CommandMetadata): Promise<DatasetView> {
    const result = await handleCommand(this.store, streams.dataset(dto.name), datasetDecider, { type: 'RegisterDataset', ...dto }, meta);
    return this.afterWrite(dto.name, result.position);
  }

  async declareSchema(name: string, schema: DatasetSchema, meta: CommandMetadata): Promise<DatasetView> {
    if (schema.dataset !== name) {
      throw new ValidationError(`the schema is for dataset '${schema.dataset}', not '${name}'`, [{ path: 'dataset', message: `must be '${name}'` }]);
    }
    const result = await handleCommand(
      this.store,
      streams.dataset(name),
      datasetDecider,
      { type: 'DeclareDatasetSchema', name, schemaHash: schemaHash(schema), schema },
      meta,
    );
    return this.afterWrite(name, result.position);
  }

  get(name: string): DatasetView {
    const dataset = this.jobs.datasets.get(name);
    if (!dataset) throw new NotFoundError(`dataset '${name}' does not exist`, { code: 'DATASET_NOT_FOUND' });
    return dataset;
  }

  version(name: string, version: number): DatasetView['versions'][number] {
    const v = this.get(name).versions.find((x) => x.version === version);
    if (!v) throw new NotFoundError(`dataset '${name}' has no version ${version}`, { code: 'VERSION_NOT_FOUND' });
    return v;
  }

  summaries() {
    return this.jobs.datasets.list().map((d) => {
      const latest = d.versions[d.versions.length - 1];
      return {
        name: d.name,
        description: d.description,
        schemaDeclared: d.schemaHash !== null,
        versions: d.versions.length,
        latest: latest
          ? { version: latest.version, status: latest.status, rows: latest.rows, accepted: latest.accepted, quarantined: latest.quarantined, createdAt: latest.createdAt }
          : null,
      };
    });
  }

  /** Streams the quarantine Parquet, or converts it to NDJSON first. */
  async sendQuarantine(key: string, format: 'parquet' | 'ndjson', res: Response, basename: string): Promise<void> {
    if (format === 'parquet') {
      await sendArtifact(res, this.artifacts, key, { contentType: 'application/vnd.apache.parquet', filename: `${basename}.parquet` });
      return;
    }
    const dir = await mkdtemp(join(tmpdir(), 'mlp-quarantine-'));
    try {
      const parquet = join(dir, 'q.parquet');
      await pipeline(await this.artifacts.get(key), createWriteStream(parquet));
      const duck = await openDuck(join(dir, 'duck'));
      try {
        await duck.run(`COPY (SELECT * FROM read_parquet(${literal(parquet)}) ORDER BY "row") TO ${literal(join(dir, 'q.ndjson'))} (FORMAT JSON)`);
      } finally {
        duck.close();
      }
      res.setHeader('content-type', 'application/x-ndjson');
      res.setHeader('content-disposition', `attachment; filename="${basename}.ndjson"`);
      await pipeline(createReadStream(join(dir, 'q.ndjson')), res);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  private async afterWrite(name: string, position: number): Promise<DatasetView> {
    if (position > 0) await this.jobs.waitForDatasets(position);
    return this.get(name);
  }
}
