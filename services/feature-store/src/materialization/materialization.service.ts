import { createWriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ArtifactStore } from '@mlp/artifacts';
import { NotFoundError, streams, type CommandMetadata } from '@mlp/contracts';
import { columnStats, finiteOrNull, ident, jsonRowBatches, literal, nonFiniteCount, openDuck, type Duck } from '@mlp/duckdb';
import { handleCommand, type EventStore } from '@mlp/eventstore';
import { columnTypeOfDuckDb } from '@mlp/data';
import { featureViewSql, eventTimestampColumn, type EntitySpec, type FeatureViewSpec } from '@mlp/ml';
import { ARTIFACT_STORE, EVENT_STORE, datasetVersions, resolveDatasetVersion, type DatasetVersion } from '@mlp/service-kit';
import { featureViewDecider } from '../views/feature-view.decide';
import { featureNames, latestVersion, viewSpec, type FeatureViewState, type Materialization, type ViewVersion } from '../views/feature-view';
import { ONLINE_STORE } from '../online/online-store.token';
import type { OnlineRow, OnlineStore } from '../online';
import { FeatureViewsService } from '../views/feature-views.service';

export interface MaterializeResult {
  materialization: Materialization;
  /** False when this view version was already materialized from these dataset bytes. */
  created: boolean;
}

/**
 * Computes a view's feature table with DuckDB from its source dataset's
 * Parquet (point in time: window aggregates see only rows at or before each
 * row), stores it as a content-addressed Parquet, pushes the latest row per
 * entity to the online store, and records FeatureViewMaterialized last. A crash
 * before that event leaves the previous materialization as it was; running
 * again is idempotent.
 */
@Injectable()
export class MaterializationService {
  private readonly logger = new Logger(MaterializationService.name);
  private readonly running = new Map<string, Promise<MaterializeResult>>();

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(ARTIFACT_STORE) private readonly artifacts: ArtifactStore,
    @Inject(ONLINE_STORE) private readonly online: OnlineStore,
    private readonly views: FeatureViewsService,
  ) {}

  /** One materialization per view at a time; a second call waits for the first. */
  materialize(name: string, meta: CommandMetadata, datasetVersion?: number): Promise<MaterializeResult> {
    const key = `${name}@${datasetVersion ?? 'latest'}`;
    const existing = this.running.get(key);
    if (existing) return existing;
    const run = this.run(name, meta, datasetVersion).finally(() => this.running.delete(key));
    this.running.set(key, run);
    return run;
  }

  private async run(name: string, meta: CommandMetadata, pinned?: number): Promise<MaterializeResult> {
    const state = this.views.state(name);
    const view = latestVersion(state);
    if (!view || state.status !== 'Defined') throw new NotFoundError(`feature view '${name}' does not exist`, { code: 'VIEW_NOT_FOUND' });
    const spec = viewSpec(view);
    const target = await resolveDatasetVersion(this.store, view.source.dataset, pinned ?? view.source.version);
    const covered = view.source.mode === 'append' ? (await datasetVersions(this.store, view.source.dataset)).filter((v) => v.status === 'accepted' && v.version <= target.version) : [target];
    const previous = [...state.materializations].reverse().find((m) => m.version === view.version && m.datasetVersion === target.version && m.datasetSha256 === target.sha256);
    if (previous) return { materialization: previous, created: false };

    const materializationId = randomUUID();
    const workDir = join(tmpdir(), `mlp-materialize-${materializationId}`);
    await mkdir(workDir, { recursive: true });
    const duck = await openDuck(join(workDir, 'duck'));
    try {
      const entity: EntitySpec = { name: view.entity.name, joinKeys: view.entity.joinKeys };
      const base = view.source.mode === 'append' ? this.incrementalBase(state, view.version, covered) : undefined;
      const sourcesOf = async (versions: DatasetVersion[], tag: string) =>
        Promise.all(versions.map((v, i) => this.download(v.artifactKey, join(workDir, `${tag}-${i}.parquet`))));
      let computedRows: number;
      if (base) {
        // Append source, new rows all after the previous watermark: compute only the new rows, with the
        // previous rows inside the longest window as context, and keep the previous feature rows as they are.
        const [previousFeatures] = await Promise.all([this.download(base.materialization.offlineArtifactKey, join(workDir, 'previous.parquet'))]);
        const oldSources = await sourcesOf(covered.filter((v) => base.materialization.datasetVersions.includes(v.version)), 'old');
        const newSources = await sourcesOf(covered.filter((v) => !base.materialization.datasetVersions.includes(v.version)), 'new');
        const ts = ident(view.timestampColumn);
        const watermark = literal(base.materialization.watermark!);
        await duck.run(`CREATE VIEW new_rows AS SELECT * FROM read_parquet([${newSources.map(literal).join(', ')}], union_by_name = true)`);
        const late = Number((await duck.one<{ n: string }>(`SELECT count(*) AS n FROM new_rows WHERE CAST(${ts} AS TIMESTAMP) <= TIMESTAMP ${watermark}`)).n);
        if (late === 0) {
          await duck.run(`CREATE VIEW source AS
            SELECT * FROM read_parquet([${oldSources.map(literal).join(', ')}], union_by_name = true)
              WHERE CAST(${ts} AS TIMESTAMP) > TIMESTAMP ${watermark} - INTERVAL ${base.maxWindowSeconds} SECOND
            UNION ALL BY NAME SELECT * FROM new_rows`);
          await duck.run(`CREATE TABLE computed AS SELECT * FROM (${featureViewSql(spec, entity, { sourceTable: 'source' })}) WHERE ${ident(eventTimestampColumn)} > TIMESTAMP ${watermark}`);
          computedRows = Number((await duck.one<{ n: string }>('SELECT count(*) AS n FROM computed')).n);
          await duck.run(`CREATE TABLE features AS SELECT * FROM read_parquet(${literal(previousFeatures)}) UNION ALL BY NAME SELECT * FROM computed ORDER BY ALL`);
        } else {
          computedRows = await this.computeAll(duck, spec, entity, [...oldSources, ...newSources]);
        }
      } else {
        computedRows = await this.computeAll(duck, spec, entity, await sourcesOf(covered, 'source'));
      }
      const offline = join(workDir, 'features.parquet');
      await duck.run(`COPY features TO ${literal(offline)} (FORMAT PARQUET)`);
      const { size } = await stat(offline);
      const offlineArtifact = await this.artifacts.put(createReadStream(offline), { contentType: 'application/vnd.apache.parquet', size });
      const rows = Number((await duck.one<{ n: string }>('SELECT count(*) AS n FROM features')).n);
      const watermark = (await duck.one<{ w: string | null }>(`SELECT CAST(max(${ident(eventTimestampColumn)}) AS VARCHAR) AS w FROM features`)).w;
      // Per-feature statistics: the drift baseline of models trained on these features.
      const featureNames = new Set(spec.features.map((f) => f.name));
      const described = await duck.all<{ column_name: string; column_type: string }>('DESCRIBE features');
      const stats = await columnStats(
        duck,
        'features',
        described.filter((c) => featureNames.has(c.column_name)).map((c) => ({ name: c.column_name, type: columnTypeOfDuckDb(c.column_type) })),
      );
      const statsArtifact = await this.artifacts.put(Buffer.from(JSON.stringify({ view: name, version: view.version, ...stats })), { contentType: 'application/json' });
      const floating = new Set(described.filter((c) => FLOATING.test(c.column_type) && featureNames.has(c.column_name)).map((c) => c.column_name));
      const pushed = view.online ? await this.pushOnline(duck, view, materializationId, floating) : { rows: 0, nonFinite: {} };
      const onlineRows = pushed.rows;
      if (Object.keys(pushed.nonFinite).length) {
        this.logger.warn(`feature view '${name}' v${view.version}: non-finite values stored online as null: ${Object.entries(pushed.nonFinite).map(([f, n]) => `${f} ${n}`).join(', ')}`);
      }

      const materialization: Materialization = {
        name,
        version: view.version,
        materializationId,
        dataset: view.source.dataset,
        datasetVersion: target.version,
        datasetSha256: target.sha256,
        datasetVersions: covered.map((v) => v.version),
        offlineArtifactKey: offlineArtifact.key,
        offlineSha256: offlineArtifact.sha256,
        rows,
        onlineRows,
        statsArtifactKey: statsArtifact.key,
        watermark,
        computedRows,
        ...(Object.keys(pushed.nonFinite).length ? { onlineNonFinite: pushed.nonFinite } : {}),
      };
      const result = await handleCommand(this.store, streams.featureView(name), featureViewDecider, { type: 'RecordMaterialization', materialization }, meta);
      await this.views.waitFor(result.position);
      return { materialization, created: result.events.length > 0 };
    } finally {
      duck.close();
      await rm(workDir, { recursive: true, force: true });
    }
  }

  /** Full recomputation over every covered source file. */
  private async computeAll(duck: Duck, spec: FeatureViewSpec, entity: EntitySpec, sources: string[]): Promise<number> {
    await duck.run(`CREATE VIEW source AS SELECT * FROM read_parquet([${sources.map(literal).join(', ')}], union_by_name = true)`);
    await duck.run(`CREATE TABLE features AS ${featureViewSql(spec, entity, { sourceTable: 'source' })}`);
    return Number((await duck.one<{ n: string }>('SELECT count(*) AS n FROM features')).n);
  }

  /** The previous materialization of this view version that an append can extend, if any. */
  private incrementalBase(state: FeatureViewState, version: number, covered: DatasetVersion[]) {
    if (state.status !== 'Defined') return undefined;
    const previous = [...state.materializations].reverse().find((m) => m.version === version);
    if (!previous || previous.watermark === null) return undefined;
    const coveredVersions = new Set(covered.map((v) => v.version));
    if (!previous.datasetVersions.every((v) => coveredVersions.has(v)) || previous.datasetVersions.length >= covered.length) return undefined;
    const spec = viewSpec(latestVersion(state)!);
    const windows = spec.features.map((f) => (f.kind === 'aggregation' ? f.windowSeconds : 0));
    return { materialization: previous, maxWindowSeconds: Math.max(0, ...windows) };
  }

  /**
   * The latest row per entity, written monotonically (older rows never
   * overwrite newer ones), streamed from DuckDB a chunk at a time. NaN and
   * ±Infinity in floating features become null (the online store holds JSON
   * values only) and are counted per feature, so the materialization records them.
   */
  private async pushOnline(duck: Duck, view: ViewVersion, materializationId: string, floating: ReadonlySet<string>): Promise<{ rows: number; nonFinite: Record<string, number> }> {
    const keys = view.entity.joinKeys.map(ident).join(', ');
    await duck.run(
      `CREATE TEMP TABLE latest AS SELECT * EXCLUDE (__rn) FROM (SELECT *, row_number() OVER (PARTITION BY ${keys} ORDER BY ${ident(eventTimestampColumn)} DESC) AS __rn FROM features) WHERE __rn = 1`,
    );
    const features = featureNames(view);
    const nonFinite: Record<string, number> = {};
    const counted = features.filter((f) => floating.has(f));
    if (counted.length) {
      const agg = await duck.one<Record<string, unknown>>(`SELECT ${counted.map((f, i) => `${nonFiniteCount(`${ident(f)}::DOUBLE`)} AS nf${i}`).join(', ')} FROM latest`);
      counted.forEach((f, i) => {
        if (Number(agg[`nf${i}`]) > 0) nonFinite[f] = Number(agg[`nf${i}`]);
      });
    }
    const columns = [...new Set([...view.entity.joinKeys, eventTimestampColumn, ...features])];
    const select = columns.map((c) => (floating.has(c) && features.includes(c) ? `${finiteOrNull(ident(c))} AS ${ident(c)}` : ident(c)));
    let rows = 0;
    let batch: OnlineRow[] = [];
    for await (const chunk of jsonRowBatches(duck, `SELECT ${select.join(', ')} FROM latest`, columns)) {
      for (const r of chunk) {
        batch.push({
          entityKey: this.online.entityKey(view.entity.joinKeys, r),
          eventTimestamp: toIso(r[eventTimestampColumn]),
          values: Object.fromEntries(features.map((f) => [f, normalize(r[f])])),
          materializationId,
        });
        if (batch.length === 1000) {
          await this.online.write(view.name, batch);
          rows += batch.length;
          batch = [];
        }
      }
    }
    if (batch.length) await this.online.write(view.name, batch);
    return { rows: rows + batch.length, nonFinite };
  }

  private async download(key: string, path: string): Promise<string> {
    await pipeline(await this.artifacts.get(key), createWriteStream(path));
    return path;
  }
}

/** DuckDB's floating types: the only ones that hold NaN and ±Infinity. */
const FLOATING = /^(FLOAT|DOUBLE|REAL|FLOAT4|FLOAT8)$/;

function toIso(value: unknown): string {
  const text = String(value);
  return /Z$|[+-]\d\d:?\d\d$/.test(text) ? new Date(text).toISOString() : new Date(`${text.replace(' ', 'T')}Z`).toISOString();
}

function normalize(value: unknown): OnlineRow['values'][string] {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number' || typeof value === 'boolean') return Number.isFinite(value as number) || typeof value === 'boolean' ? value : null;
  const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : undefined;
  return n !== undefined && Number.isSafeInteger(n) ? n : String(value);
}

export type { DatasetVersion };
