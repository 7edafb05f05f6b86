import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { streams } from '@mlp/contracts';
import { SeededRng } from '@mlp/ml';
import { call, callText } from '../api';
import { formatNumber } from '../output';
import { demoData } from './demo-ingestion';
import { awaitEvent, headPosition, readEvents, shortId, type LoggedEvent } from './demo-events';
import { predictGrpc, type ModelMetadata, type PredictOutput } from './predict';

type Row = Record<string, string | number | null>;
const enc = encodeURIComponent;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The bundled penguins rows with measurements, in file order, as a client sends them: no species (the label) and no sex (sensitive, not a feature). */
export function penguinFeatureRows(): Row[] {
  const [header, ...lines] = readFileSync(demoData.file, 'utf8').trim().split('\n');
  const names = header.split(',');
  return lines
    .map((line) => Object.fromEntries(line.split(',').map((v, i) => [names[i], v === 'NA' ? null : /^[0-9.]+$/.test(v) ? Number(v) : v])) as Row)
    .filter((r) => r.bill_length_mm !== null)
    .map(({ species: _species, sex: _sex, ...features }) => features);
}

/** `n` rows drawn with the seeded `rng`; `shift` makes them drifted: all from Biscoe, longer bills and flippers, heavier. */
export function demoTraffic(rows: readonly Row[], rng: SeededRng, n: number, shift = false): Row[] {
  const plus = (v: string | number | null, d: number) => (typeof v === 'number' ? v + d : v);
  return Array.from({ length: n }, () => {
    const r = rows[rng.int(0, rows.length)];
    return shift ? { ...r, island: 'Biscoe', bill_length_mm: plus(r.bill_length_mm, 8), flipper_length_mm: plus(r.flipper_length_mm, 15), body_mass_g: plus(r.body_mass_g, 600) } : r;
  });
}

/** The V2 (KServe open inference protocol) JSON request for `rows`, typed by the model's metadata. */
export function v2InferRequest(rows: readonly Row[], metadata: ModelMetadata) {
  return { inputs: metadata.inputs.map((i) => ({ name: i.name, datatype: i.datatype, shape: [rows.length], data: rows.map((r) => r[i.name] ?? null) })) };
}

/**
 * Serving step: waits until `production` of `model` answers with `version`, then asks for
 * the same three rows over the JSON API, V2 REST and V2 gRPC (the client of
 * `mlp predict --grpc`); the three answers must agree.
 */
export async function demoServing(model: string, version: number, rows: readonly Row[], env: NodeJS.ProcessEnv = process.env): Promise<{ lines: string[]; json: unknown }> {
  const sample = [rows[0], rows[150], rows[300]];
  const t0 = Date.now();
  let rest: PredictOutput;
  // Serving follows the registry's alias by its events: wait until production answers with `version`.
  for (;;) {
    if ((await fetchStatus(model, env)) === 200) {
      rest = await call<PredictOutput>('serving', 'POST', `/v1/models/${enc(model)}:predict`, { instances: sample }, env);
      if (rest.version === String(version)) break;
    }
    if (Date.now() - t0 > 60_000) throw new Error(`demo failed: serving did not answer with '${model}' version ${version} within 60 s`);
    await sleep(200);
  }
  const metadata = await call<ModelMetadata>('serving', 'GET', `/v2/models/${enc(model)}`, undefined, env);
  const v2 = await call<{ model_version: string; outputs: { name: string; data: unknown[] }[] }>('serving', 'POST', `/v2/models/${enc(model)}/infer`, v2InferRequest(sample, metadata), env);
  const grpc = await predictGrpc(model, sample, metadata);
  const v2Predictions = v2.outputs[0]?.data ?? [];
  const agree = JSON.stringify(rest.predictions) === JSON.stringify(v2Predictions) && JSON.stringify(rest.predictions) === JSON.stringify(grpc.predictions);
  if (!agree) throw new Error(`demo failed: the protocols disagree: REST ${JSON.stringify(rest.predictions)}, V2 ${JSON.stringify(v2Predictions)}, gRPC ${JSON.stringify(grpc.predictions)}`);
  const lines = [
    `serving '${model}' version ${rest.version} (production); the same 3 penguins over three protocols:`,
    `  REST  POST /v1/models/${model}:predict       → ${rest.predictions.join(', ')}  (p ${(rest.probabilities ?? []).map((p) => formatNumber(Math.max(...p))).join(', ')})`,
    `  REST  POST /v2/models/${model}/infer          → ${v2Predictions.join(', ')}`,
    `  gRPC  inference.GRPCInferenceService/ModelInfer → ${grpc.predictions.join(', ')}`,
    `  try: mlp predict ${model} --input rows.json [--grpc]`,
  ];
  return { lines, json: { version: rest.version, predictions: rest.predictions } };
}

async function fetchStatus(model: string, env: NodeJS.ProcessEnv): Promise<number> {
  try {
    await call('serving', 'GET', `/v2/models/${enc(model)}/ready`, undefined, env);
    return 200;
  } catch {
    return 503;
  }
}

/** Rows of the demo's drift window, set by its policy (not by monitoring's default, MLP_MONITORING_WINDOW). */
export const DEMO_WINDOW = 200;

/** The demo's monitoring policy: drift on a 200-row window → alert (to `webhook`) and retrain; the retrained version goes through a 20 % canary. */
export const demoPolicy = (model: string, webhook: string) => `model: ${model}
window: {size: ${DEMO_WINDOW}}
performance: {metric: accuracy, minimum: 0.5, window: 20}
actions:
  onDrift: [alert, retrain]
  onDegraded: [alert, rollback]
  canary: {promoteAfter: 30, rollbackIf: {errorRate: 0.2}, percent: 20}
alerts:
  webhook: ${webhook}
`;

/** A loopback webhook receiver in the CLI: the alerts monitoring sends, as parsed JSON bodies. */
async function alertReceiver(): Promise<{ url: string; received: unknown[]; server: Server }> {
  const received: unknown[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      try {
        received.push(JSON.parse(body));
      } catch {
        received.push(body);
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`, received, server };
}

interface LoopResult {
  driftedFeatures: string[];
  retrainRunId: string;
  version: number;
  outcome: 'promoted' | 'rolled back';
}

/**
 * The closed loop: the policy applied, a window of training-like traffic (no
 * drift), a window of drifted traffic → DriftDetected → RetrainingTriggered
 * → a new run → a new version → a canary deployment, fed single requests
 * until serving's canary policy promotes it or rolls it back. Each step is
 * read back from the event log and told with `say` as it happens.
 */
export async function demoClosedLoop(model: string, rows: readonly Row[], say: (line: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<LoopResult> {
  const webhook = await alertReceiver();
  try {
    return await closedLoop(model, rows, say, webhook, env);
  } finally {
    webhook.server.close();
  }
}

async function closedLoop(model: string, rows: readonly Row[], say: (line: string) => void, webhook: { url: string; received: unknown[] }, env: NodeJS.ProcessEnv): Promise<LoopResult> {
  const rng = new SeededRng(7);
  const predict = (instances: Row[]) => call('serving', 'POST', `/v1/models/${enc(model)}:predict`, { instances }, env);
  await callText('monitoring', 'POST', '/policies', demoPolicy(model, webhook.url), 'text/yaml', env);
  say(`applied a monitoring policy (as mlp monitor apply does): window ${DEMO_WINDOW} rows, onDrift [alert, retrain], canary 20 % promoteAfter 30 rollbackIf errorRate > 0.2`);
  const monitorStream = streams.monitor(model);
  // Only what this demo causes counts: an MLP_HOME from an earlier `npm start` has its own loop in the log.
  const mark = await headPosition(env);
  // A window the serving step's predictions opened before the policy adopts its size (DriftWindowResized).
  for (let i = 0; i < DEMO_WINDOW / 50; i++) await predict(demoTraffic(rows, rng, 50));
  const quiet = await awaitEvent<{ datasetDrift: boolean }>('DriftReportComputed', { stream: monitorStream, after: mark, timeoutMs: 60_000 }, env);
  say(`${DEMO_WINDOW} requests like the training data → drift report: ${quiet.data.datasetDrift ? 'drift' : 'no drift'}`);
  for (let i = 0; i < DEMO_WINDOW / 50; i++) await predict(demoTraffic(rows, rng, 50, true));
  const detected = await awaitEvent<{ driftedFeatures: string[]; driftShare: number }>('DriftDetected', { stream: monitorStream, after: mark, timeoutMs: 60_000 }, env);
  say(`${DEMO_WINDOW} drifted requests (island Biscoe, +8 mm bill, +15 mm flipper, +600 g) → DriftDetected: ${detected.data.driftedFeatures.join(', ')} (share ${formatNumber(detected.data.driftShare)})`);
  const trigger = await awaitEvent<{ triggerId: string }>('RetrainingTriggered', { stream: monitorStream, after: mark, timeoutMs: 60_000 }, env);
  const alert = await awaitEvent('AlertRaised', { after: mark, where: (e) => (e.data as { model?: string }).model === model, timeoutMs: 30_000 }, env);
  say(`policy → AlertRaised (${(alert.data as { condition?: string }).condition ?? 'drift'}) and RetrainingTriggered (trigger ${shortId(trigger.data.triggerId)}, caused by the DriftDetected event)`);
  const retraining = streams.retraining(trigger.data.triggerId);
  const started = await awaitEvent<{ runId: string; sourceRunId: string }>('RetrainingRunStarted', { stream: retraining, timeoutMs: 60_000 }, env);
  say(`RetrainingRunStarted: run ${shortId(started.data.runId)} with the spec of run ${shortId(started.data.sourceRunId)} …`);
  await awaitEvent('TrainingRunCompleted', { stream: streams.run(started.data.runId), timeoutMs: 150_000 }, env);
  const canary = await awaitEvent<{ version: number; percent: number }>('CanaryDeploymentRequested', { stream: retraining, timeoutMs: 60_000 }, env);
  say(`run ${shortId(started.data.runId)} completed → '${model}' version ${canary.data.version} → CanaryDeploymentRequested at ${canary.data.percent} % …`);
  await awaitEvent('DeploymentStarted', { stream: streams.deployment(model), after: mark, where: (e) => (e.data as { candidateVersion?: number }).candidateVersion === canary.data.version, timeoutMs: 60_000 }, env);
  const isVerdict = (e: LoggedEvent) => (e.data as { version?: number; candidateVersion?: number }).version === canary.data.version || (e.data as { candidateVersion?: number }).candidateVersion === canary.data.version;
  const verdict = await awaitVerdict(model, mark, isVerdict, async () => {
    await Promise.all(demoTraffic(rows, rng, 40).map((r) => predict([r])));
  }, env);
  const outcome = verdict.type === 'DeploymentPromoted' ? 'promoted' : 'rolled back';
  say(`alert webhook: ${webhook.received.length > 0 ? 'delivered to the demo\'s receiver' : 'not delivered yet'}`);
  say(`canary ${outcome} by the policy (${verdict.type}); production → version ${verdict.type === 'DeploymentPromoted' ? canary.data.version : (verdict.data as { restoredVersion: number }).restoredVersion}`);
  return { driftedFeatures: detected.data.driftedFeatures, retrainRunId: started.data.runId, version: canary.data.version, outcome };
}

async function awaitVerdict(model: string, after: number, mine: (e: LoggedEvent) => boolean, tick: () => Promise<void>, env: NodeJS.ProcessEnv): Promise<LoggedEvent> {
  const t0 = Date.now();
  for (;;) {
    const events = [...(await readEvents('DeploymentPromoted', streams.deployment(model), env)), ...(await readEvents('DeploymentRolledBack', streams.deployment(model), env))];
    const found = events.find((e) => e.position > after && mine(e));
    if (found) return found;
    if (Date.now() - t0 > 120_000) throw new Error('demo failed: the canary policy did not decide within 120 s');
    await tick();
  }
}
