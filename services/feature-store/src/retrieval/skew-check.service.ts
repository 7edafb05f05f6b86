import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { z } from 'zod';
import type { ArtifactStore } from '@mlp/artifacts';
import { NotFoundError, type EntityValues, type SkewMismatch, type SkewMissing, type SkewReport } from '@mlp/contracts';
import { ident, literal, openDuck } from '@mlp/duckdb';
import { eventTimestampColumn } from '@mlp/ml';
import { ARTIFACT_STORE } from '@mlp/service-kit';
import { ONLINE_STORE } from '../online/online-store.token';
import type { OnlineStore } from '../online';
import { featureNames, latestMaterialization } from '../views/feature-view';
import { FeatureViewsService } from '../views/feature-views.service';

/** Body of `POST /feature-views/:name/check-skew`. */
export const checkSkewSchema = z
  .object({
    /** How many entities to check: the first N by sorted join keys. */
    sample: z.number().int().positive().max(10_000).optional(),
    /** Relative tolerance for numbers. */
    tolerance: z.number().nonnegative().max(1).optional(),
  })
  .strict();
export type CheckSkewOptions = z.infer<typeof checkSkewSchema>;

export const DEFAULT_SKEW_SAMPLE = 100;
export const DEFAULT_SKEW_TOLERANCE = 1e-9;

const NUMERIC_TYPE = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|REAL|DECIMAL(\(.*\))?)$/i;

/** Whether a DuckDB column type is compared as a number. */
export function isNumericType(duckType: string): boolean {
  return NUMERIC_TYPE.test(duckType.trim());
}

/** A number from a JSON-ish value (DuckDB renders BIGINT/HUGEINT and non-finite doubles as text); undefined when it is not one. */
function asNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (text === 'NaN') return Number.NaN;
  return text !== '' && !Number.isNaN(Number(text)) ? Number(text) : undefined;
}

/** An offline value as the report shows it: numeric columns as numbers when they are finite (DuckDB renders BIGINT as text). */
function shownOffline(value: unknown, numeric: boolean): unknown {
  if (value === undefined || value === null) return null;
  const n = numeric ? asNumber(value) : undefined;
  return n !== undefined && Number.isFinite(n) && (!Number.isInteger(n) || Number.isSafeInteger(n)) ? n : value;
}

/**
 * Does the online value equal the offline one? Numbers within a relative
 * tolerance (|a - b| ≤ tolerance · max(|a|, |b|)); everything else exactly.
 * A non-finite offline number equals an online null: the online store cannot
 * hold NaN or ±Infinity and stores null instead (online-rows.ts).
 */
export function valuesMatch(online: unknown, offline: unknown, numeric: boolean, tolerance: number): boolean {
  const o = online === undefined ? null : online;
  const f = offline === undefined ? null : offline;
  if (!numeric) return o === f;
  const b = f === null ? null : asNumber(f);
  if (b === undefined) return o === f;
  if (b === null || !Number.isFinite(b)) return o === null;
  const a = o === null ? undefined : asNumber(o);
  if (a === undefined) return false;
  if (a === b) return true;
  return Math.abs(a - b) <= tolerance * Math.max(Math.abs(a), Math.abs(b));
}

/** `2024-01-09T00:00:00.000Z`: the canonical form of an ISO instant, to millisecond precision. */
function canonicalInstant(iso: string): string | null {
  const ms = Date.parse(/Z$|[+-]\d\d:?\d\d$/.test(iso) ? iso : `${iso.replace(' ', 'T')}Z`);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

/** DuckDB renders a TIMESTAMP as this, the same instant `canonicalInstant` gives for the online row (UTC, milliseconds). */
const isoSql = (column: string) => `strftime(${column}, '%Y-%m-%dT%H:%M:%S.%gZ')`;

/**
 * Training/serving skew check of an online feature view: samples entities
 * from its latest materialization's offline table, takes each one's online
 * row, and compares its values with the offline row of the same entity at the
 * online row's event time. Read only: nothing is recorded.
 */
@Injectable()
export class SkewCheckService {
  constructor(
    @Inject(ARTIFACT_STORE) private readonly artifacts: ArtifactStore,
    @Inject(ONLINE_STORE) private readonly online: OnlineStore,
    private readonly views: FeatureViewsService,
  ) {}

  async checkSkew(name: string, opts: CheckSkewOptions = {}): Promise<SkewReport> {
    const sample = opts.sample ?? DEFAULT_SKEW_SAMPLE;
    const tolerance = opts.tolerance ?? DEFAULT_SKEW_TOLERANCE;
    const { state, view } = this.views.require(name);
    if (!view.online) throw new NotFoundError(`feature view '${name}' is not served online (online: false): there is nothing to compare`, { code: 'VIEW_NOT_ONLINE' });
    const m = latestMaterialization(state);
    if (!m) throw new NotFoundError(`feature view '${name}' v${view.version} has not been materialized yet`, { code: 'NOT_MATERIALIZED' });
    const joinKeys = view.entity.joinKeys;
    const features = featureNames(view);

    const workDir = join(tmpdir(), `mlp-skew-${randomUUID()}`);
    await mkdir(workDir, { recursive: true });
    const duck = await openDuck(join(workDir, 'duck'));
    try {
      const offline = join(workDir, 'features.parquet');
      await pipeline(await this.artifacts.get(m.offlineArtifactKey), createWriteStream(offline));
      await duck.run(`CREATE VIEW features AS SELECT * FROM read_parquet(${literal(offline)})`);
      const types = new Map((await duck.all<{ column_name: string; column_type: string }>('DESCRIBE features')).map((c) => [c.column_name, c.column_type]));
      const keys = joinKeys.map(ident).join(', ');
      const ts = ident(eventTimestampColumn);
      const numeric = (column: string) => isNumericType(types.get(column) ?? '');

      // The sample: the first N entities by sorted join keys, with their latest offline event time.
      await duck.run(
        `CREATE TABLE sample AS SELECT row_number() OVER (ORDER BY ${keys}) AS __i, * FROM ` +
          `(SELECT ${keys}, ${isoSql(`max(${ts})`)} AS __latest FROM features GROUP BY ALL ORDER BY ${keys} LIMIT ${sample})`,
      );
      const sampled = await duck.all<Record<string, unknown>>('SELECT * FROM sample ORDER BY __i');
      const entities = sampled.map((row) => this.entityOf(joinKeys, row, types));
      const entityKeys = entities.map((e) => this.online.entityKey(joinKeys, e));
      const stored = await this.online.read(name, entityKeys, null);

      const mismatches: SkewMismatch[] = [];
      const missing: SkewMissing[] = [];
      // Probe: the online row's event time of every sampled entity that has one.
      const probes: { i: number; at: string }[] = [];
      sampled.forEach((row, index) => {
        const online = stored.get(entityKeys[index]) ?? null;
        const latest = (row.__latest as string | null) ?? null;
        if (!online) {
          missing.push({ entity: entities[index], reason: 'online_missing', onlineEventTimestamp: null, offlineEventTimestamp: latest });
          return;
        }
        const at = canonicalInstant(online.eventTimestamp);
        if (at === null) {
          missing.push({ entity: entities[index], reason: 'offline_missing', onlineEventTimestamp: online.eventTimestamp, offlineEventTimestamp: latest });
          return;
        }
        probes.push({ i: Number(row.__i), at });
      });

      const offlineRows = new Map<number, Record<string, unknown>[]>();
      if (probes.length > 0) {
        await duck.run(`CREATE TABLE probe AS SELECT * FROM (VALUES ${probes.map((p) => `(${p.i}, ${literal(p.at)})`).join(', ')}) AS t(__i, __at)`);
        const on = joinKeys.map((k) => `f.${ident(k)} = s.${ident(k)}`).join(' AND ');
        const rows = await duck.all<Record<string, unknown>>(
          `SELECT p.__i, f.* FROM probe p JOIN sample s ON s.__i = p.__i JOIN features f ON ${on} AND ${isoSql(`f.${ts}`)} = p.__at ORDER BY ALL`,
        );
        for (const r of rows) {
          const i = Number(r.__i);
          offlineRows.set(i, [...(offlineRows.get(i) ?? []), r]);
        }
      }

      const probed = new Set(probes.map((p) => p.i));
      sampled.forEach((row, index) => {
        const i = Number(row.__i);
        if (!probed.has(i)) return;
        const online = stored.get(entityKeys[index])!;
        const candidates = offlineRows.get(i) ?? [];
        if (candidates.length === 0) {
          missing.push({ entity: entities[index], reason: 'offline_missing', onlineEventTimestamp: online.eventTimestamp, offlineEventTimestamp: (row.__latest as string | null) ?? null });
          return;
        }
        // Several offline rows of one entity can share an event time (row-level features may differ between them):
        // the online row is right when it equals one of them; otherwise report against the closest one.
        let best: SkewMismatch[] | undefined;
        for (const candidate of candidates) {
          const diffs = features
            .filter((f) => !valuesMatch(online.values[f], candidate[f], numeric(f), tolerance))
            .map((f) => ({ entity: entities[index], feature: f, online: online.values[f] ?? null, offline: shownOffline(candidate[f], numeric(f)), eventTimestamp: online.eventTimestamp }));
          if (!best || diffs.length < best.length) best = diffs;
          if (diffs.length === 0) break;
        }
        mismatches.push(...best!);
      });

      return {
        view: name,
        version: view.version,
        materializationId: m.materializationId,
        sampled: sampled.length,
        tolerance,
        mismatches,
        missing,
        ok: mismatches.length === 0 && missing.length === 0,
      };
    } finally {
      duck.close();
      await rm(workDir, { recursive: true, force: true });
    }
  }

  /** Join-key values as the online API shows them: integer columns as numbers (DuckDB renders BIGINT as text). */
  private entityOf(joinKeys: string[], row: Record<string, unknown>, types: Map<string, string>): EntityValues {
    return Object.fromEntries(
      joinKeys.map((k) => {
        const v = row[k];
        const n = isNumericType(types.get(k) ?? '') ? asNumber(v) : undefined;
        return [k, n !== undefined && Number.isSafeInteger(n) ? n : typeof v === 'number' ? v : String(v)];
      }),
    );
  }
}
