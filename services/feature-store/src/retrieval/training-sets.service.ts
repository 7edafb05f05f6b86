import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { ArtifactStore } from '@mlp/artifacts';
import { NotFoundError, streams, validateEventData, type CommandMetadata, type TrainingSetRequest, type TrainingSetResult } from '@mlp/contracts';
import { ident, literal, openDuck } from '@mlp/duckdb';
import { handleCommand, type EventStore } from '@mlp/eventstore';
import { historicalJoinSql } from '@mlp/ml';
import { ARTIFACT_STORE, EVENT_STORE, resolveDatasetVersion } from '@mlp/service-kit';
import { featureNames } from '../views/feature-view';
import { FeatureViewsService } from '../views/feature-views.service';
import { trainingSetDecider } from './training-set.decide';

/**
 * Point-in-time training sets: each entity row gets, per view, the latest
 * feature row at or before its own timestamp (ASOF join), within the view's
 * TTL. The result is a content-addressed Parquet, and TrainingSetBuilt records
 * the spec with the hashes of every input and of the output.
 */
@Injectable()
export class TrainingSetsService {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(ARTIFACT_STORE) private readonly artifacts: ArtifactStore,
    private readonly views: FeatureViewsService,
  ) {}

  /** A built training set, from its TrainingSetBuilt event (re-validated on read). */
  async get(trainingSetId: string): Promise<TrainingSetResult> {
    const built = (await this.store.readStream(streams.trainingSet(trainingSetId))).find((e) => e.type === 'TrainingSetBuilt');
    if (!built) throw new NotFoundError(`training set ${trainingSetId} does not exist`, { code: 'TRAINING_SET_NOT_FOUND' });
    const { artifactKey, sha256, rows, columns, inputs } = validateEventData('TrainingSetBuilt', built.data);
    return { trainingSetId, artifactKey, sha256, rows, columns, inputs };
  }

  async build(request: TrainingSetRequest, meta: CommandMetadata): Promise<TrainingSetResult> {
    const id = randomUUID();
    const workDir = join(tmpdir(), `mlp-trainingset-${id}`);
    await mkdir(workDir, { recursive: true });
    const duck = await openDuck(join(workDir, 'duck'));
    try {
      const inputs: TrainingSetResult['inputs'] = [];
      let entityKey: string;
      if ('dataset' in request.entities) {
        const v = await resolveDatasetVersion(this.store, request.entities.dataset, request.entities.version);
        entityKey = v.artifactKey;
        inputs.push({ ref: `dataset:${v.dataset}@${v.version}`, sha256: v.sha256 });
      } else {
        entityKey = request.entities.artifactKey;
        inputs.push({ ref: `artifact:${entityKey}`, sha256: (await this.artifacts.stat(entityKey)).sha256 ?? entityKey.replace(/^sha256\//, '') });
      }
      const entityPath = join(workDir, 'entities.parquet');
      await pipeline(await this.artifacts.get(entityKey), createWriteStream(entityPath));
      await duck.run(`CREATE TABLE entities AS SELECT * FROM read_parquet(${literal(entityPath)})`);

      const wanted = new Map<string, string[] | null>();
      for (const ref of request.features) {
        const [view, feature] = ref.split(':');
        const current = wanted.get(view);
        if (!feature) wanted.set(view, null);
        else if (current !== null) wanted.set(view, [...(current ?? []), feature]);
      }
      const joinViews = [];
      for (const [name, features] of wanted) {
        const { state, view } = this.views.require(name);
        const m = state.status === 'Defined' ? [...state.materializations].reverse().find((x) => x.version === view.version) : undefined;
        if (!m) throw new NotFoundError(`feature view '${name}' v${view.version} has not been materialized yet`, { code: 'NOT_MATERIALIZED' });
        const path = join(workDir, `${name}.parquet`);
        await pipeline(await this.artifacts.get(m.offlineArtifactKey), createWriteStream(path));
        await duck.run(`CREATE TABLE ${ident(`fv_${name}`)} AS SELECT * FROM read_parquet(${literal(path)})`);
        const all = featureNames(view);
        for (const f of features ?? []) if (!all.includes(f)) throw new NotFoundError(`feature view '${name}' has no feature '${f}'`, { code: 'FEATURE_NOT_FOUND' });
        joinViews.push({ name, joinKeys: view.entity.joinKeys, table: ident(`fv_${name}`), features: features ?? all, ttlSeconds: view.ttlSeconds ?? undefined });
        inputs.push({ ref: `featureview:${name}@${view.version}/materialization:${m.materializationId}`, sha256: m.offlineSha256 });
      }
      const out = join(workDir, 'training-set.parquet');
      await duck.run(`COPY (${historicalJoinSql({ entityTable: 'entities', entityTimestamp: request.timestampColumn, views: joinViews })}) TO ${literal(out)} (FORMAT PARQUET)`);
      const rows = Number((await duck.one<{ n: string }>(`SELECT count(*) AS n FROM read_parquet(${literal(out)})`)).n);
      const columns = (await duck.all<{ column_name: string }>(`DESCRIBE SELECT * FROM read_parquet(${literal(out)})`)).map((c) => c.column_name);
      const { size } = await stat(out);
      const artifact = await this.artifacts.put(createReadStream(out), { contentType: 'application/vnd.apache.parquet', size });
      const result: TrainingSetResult = { trainingSetId: id, artifactKey: artifact.key, sha256: artifact.sha256, rows, columns, inputs };
      await handleCommand(
        this.store,
        streams.trainingSet(id),
        trainingSetDecider,
        { type: 'RecordTrainingSet', data: { ...result, spec: { ...request } } },
        meta,
      );
      return result;
    } finally {
      duck.close();
      await rm(workDir, { recursive: true, force: true });
    }
  }
}
