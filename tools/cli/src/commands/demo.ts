import { join } from 'node:path';
import { formatTable, printJson } from '../output';
import { demoFeatures } from './demo-features';
import { demoIngestion, demoIngestionV2 } from './demo-ingestion';
import { demoClosedLoop, demoServing, penguinFeatureRows } from './demo-loop';
import { demoLineage, demoRegistry } from './demo-registry';
import { demoEvaluation, demoTraining } from './demo-training';

/** One stage of the demo as the summary table shows it. */
export interface DemoStage {
  stage: string;
  result: string;
  ms: number;
}

export interface DemoReport {
  stages: DemoStage[];
  model: string;
  runId: string;
  retrainRunId: string;
  productionVersion: number;
}

/**
 * `npm start`'s demo: every stage of the platform on the bundled penguins
 * data, each announced as `[n/8] …` before it runs, its lines after it, and a
 * summary table at the end. Seeded throughout: apart from timings and the
 * (short) ids of runs, the output is the same on every fresh start.
 * `home` (MLP_HOME) holds the generated second dataset version.
 */
export async function runDemo(home: string, json: boolean, log: (line: string) => void = console.log): Promise<DemoReport> {
  const stages: DemoStage[] = [];
  const out: Record<string, unknown> = {};
  const total = 8;
  const say = (line: string) => {
    if (!json) log(`  ${line}`);
  };
  const stage = async <T>(title: string, run: () => Promise<{ lines: string[]; result: string; json?: unknown; value: T }>): Promise<T> => {
    const n = stages.length + 1;
    if (!json) log(`\n[${n}/${total}] ${title}`);
    const t0 = Date.now();
    const r = await run().catch((err: Error) => {
      throw new Error(`demo stage ${n} (${title}) failed: ${err.message}`);
    });
    const ms = Date.now() - t0;
    stages.push({ stage: title, result: r.result, ms });
    out[title] = r.json;
    if (!json) for (const line of r.lines) log(`  ${line}`);
    return r.value;
  };

  await stage('ingest', async () => {
    const v1 = await demoIngestion(json);
    const v2 = await demoIngestionV2(join(home, 'demo'), json);
    const q = v2.outcome.quarantined ?? 0;
    return { lines: [...v1.lines, ...v2.lines], result: `penguins v1 + v2, ${q} rows quarantined, schema changed`, json: { v1: v1.json, v2: v2.json }, value: undefined };
  });
  await stage('features', async () => {
    const f = await demoFeatures(json);
    const m = f.result.materialization;
    return { lines: f.lines, result: `${m.name} v${m.version}: ${m.rows} rows offline, ${m.onlineRows} online`, json: f.json, value: undefined };
  });
  const trained = await stage('train', async () => {
    const t = await demoTraining(json);
    const acc = (t.json.metrics as Record<string, number>).accuracy;
    return { lines: t.lines, result: `${t.runId.slice(0, 8)}: ${t.json.metrics ? `holdout accuracy ${acc?.toFixed(3)}` : ''}${t.blessed ? ', blessed' : ''}`, json: t.json, value: t };
  });
  await stage('evaluate', async () => {
    const e = await demoEvaluation(trained.runId);
    return { lines: e.lines, result: 'holdout metrics, fairness slices by sex', json: e.json, value: undefined };
  });
  const model = trained.experiment;
  const registered = await stage('register', async () => {
    const r = await demoRegistry(model, trained.runId, trained.blessed);
    return { lines: r.lines, result: `${model} v${r.version} approved, production`, json: r.json, value: r };
  });
  const rows = penguinFeatureRows();
  await stage('serve', async () => {
    const s = await demoServing(model, registered.version, rows);
    return { lines: s.lines, result: 'REST, V2 REST and gRPC agree', json: s.json, value: undefined };
  });
  const loop = await stage('drift → retrain → canary', async () => {
    const r = await demoClosedLoop(model, rows, say);
    return { lines: [], result: `drift in ${r.driftedFeatures.length} features → v${r.version} ${r.outcome}`, json: r, value: r };
  });
  const lineage = await stage('lineage', async () => {
    const l = await demoLineage(model);
    return { lines: l.lines, result: `${model} v${l.version} (production)`, json: { version: l.version }, value: l };
  });

  const report: DemoReport = { stages, model, runId: trained.runId, retrainRunId: loop.retrainRunId, productionVersion: lineage.version };
  if (json) {
    printJson({ demo: { ...out, summary: stages } });
    return report;
  }
  log('\nsummary');
  const table = stages.map((s, i) => ({ stage: `${i + 1}. ${s.stage}`, result: s.result, time: `${(s.ms / 1000).toFixed(1)} s` }));
  for (const line of formatTable(table, ['stage', 'result', 'time'], { right: ['time'] })) log(line);
  log(`total ${(stages.reduce((a, s) => a + s.ms, 0) / 1000).toFixed(1)} s`);
  log('\nexplore further:');
  for (const line of exploreCommands(report, registered.version)) log(`  ${line}`);
  return report;
}

/** Commands of `mlp` (tools/cli/src/main.ts) that show what the demo did. */
export function exploreCommands(r: DemoReport, firstVersion: number): string[] {
  return [
    `npx mlp runs --experiment ${r.model}`,
    `npx mlp runs ${r.runId} --compare ${r.retrainRunId}`,
    `npx mlp replay run ${r.runId}`,
    `npx mlp lineage model ${r.model} ${r.productionVersion}`,
    `npx mlp models history ${r.model} --alias production`,
    `npx mlp deployments ${r.model}`,
    `npx mlp monitor ${r.model}`,
    `npx mlp alerts --model ${r.model}`,
    `npx mlp events --stream monitor-${r.model}`,
    `npx mlp datasets penguins`,
    `npx mlp lineage dataset penguins 2`,
    ...(firstVersion !== r.productionVersion ? [`npx mlp rollback ${r.model}`] : []),
  ];
}
