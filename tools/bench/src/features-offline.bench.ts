import { DuckDBInstance } from '@duckdb/node-api';
import { historicalJoinSql } from '@mlp/ml';
import { printFigures, timed } from './report';

const ROWS = 1_000_000;
const ENTITIES = 50_000;

/**
 * The point-in-time join of a training set (entity rows × a feature table,
 * latest feature row at or before each entity row, TTL applied) against a
 * bare DuckDB ASOF JOIN of the same tables in the same run.
 */
export async function benchFeaturesOffline(): Promise<void> {
  const db = await DuckDBInstance.create(':memory:', { threads: '2' });
  const c = await db.connect();
  await c.run(`CREATE TABLE features AS SELECT 'c' || (i % ${ENTITIES}) AS customer_id,
      TIMESTAMP '2024-01-01' + INTERVAL (i * 7) SECOND AS event_timestamp, random() AS f1, random() AS f2, (i % 100)::BIGINT AS f3
    FROM range(${ROWS}) t(i)`);
  await c.run(`CREATE TABLE entities AS SELECT 'c' || ((i * 7919) % ${ENTITIES}) AS customer_id,
      TIMESTAMP '2024-01-01' + INTERVAL (i * 7 + 3) SECOND AS label_ts, (i % 2)::INTEGER AS label
    FROM range(${ROWS}) t(i)`);
  const ours = historicalJoinSql({
    entityTable: 'entities',
    entityTimestamp: 'label_ts',
    views: [{ name: 'customer_stats', joinKeys: ['customer_id'], table: 'features', features: ['f1', 'f2', 'f3'], ttlSeconds: 30 * 86_400 }],
  });
  const raw = `SELECT e.*, f.f1, f.f2, f.f3 FROM entities e ASOF LEFT JOIN features f ON e.customer_id = f.customer_id AND e.label_ts >= f.event_timestamp`;
  // Warm-up, then one measured run each.
  await c.run(`CREATE TABLE w AS ${raw}`);
  const bare = await timed(() => c.run(`CREATE TABLE r1 AS ${raw}`));
  const mine = await timed(() => c.run(`CREATE TABLE r2 AS ${ours}`));
  const n = Number((await c.runAndReadAll('SELECT count(*) AS n FROM r2')).getRowObjectsJson()[0].n);
  if (n !== ROWS) throw new Error(`expected ${ROWS} rows, got ${n}`);
  printFigures(`offline point-in-time join (${ROWS.toLocaleString('en-US')} entity rows × ${ROWS.toLocaleString('en-US')} feature rows)`, [
    { name: 'historicalJoinSql (TTL, row order kept)', value: ROWS / mine.seconds, unit: 'rows/s', baseline: { name: 'bare DuckDB ASOF JOIN', value: ROWS / bare.seconds } },
  ]);
}
