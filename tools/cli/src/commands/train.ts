import { readFileSync } from 'node:fs';
import { call, callText, UsageError } from '../api';
import { download, downloadStatus } from '../download';
import { formatBytes, formatNumber, printJson, printTable } from '../output';
import { progressEnabled, StatusLine } from '../progress';

/** What the CLI reads of a run (GET /runs/:id). */
export interface RunSummary {
  runId: string;
  experiment: string;
  status: 'Running' | 'Cancelling' | 'Completed' | 'Failed' | 'Cancelled';
  task: string;
  rows?: number;
  warnings: string[];
  trials: { trial: number; status: string; params: Record<string, unknown>; metrics: Record<string, number>; attempts: number; worker?: string }[];
  metrics?: Record<string, number>;
  blessed?: boolean;
  params?: Record<string, unknown>;
  weightsSha256?: string;
  artifacts?: { model: string; weights: string; preprocessing: string; report: string; modelCard: string };
  error?: string;
  evaluation?: { baseline: { kind: string; metrics: Record<string, number> }; comparison: Record<string, { passed: boolean; rule: string }> };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ended = (r: RunSummary) => r.status !== 'Running' && r.status !== 'Cancelling';

/** The `--json` line of `mlp train`. */
export function runJson(run: RunSummary) {
  return {
    runId: run.runId,
    status: run.status,
    metrics: run.metrics ?? {},
    model: run.artifacts ? { artifact: run.artifacts.model, sha256: run.weightsSha256 } : null,
    ...(run.error ? { error: run.error } : {}),
  };
}

export function trialBar(run: RunSummary, total: number, curve?: { epochs: number }): string {
  const done = run.trials.filter((t) => t.status !== 'running').length;
  const width = 20;
  const filled = total > 0 ? Math.round((Math.min(done, total) / total) * width) : 0;
  return `trials [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}${curve ? `  final fit epoch ${curve.epochs}` : ''}  ${run.status.toLowerCase()}`;
}

/** Starts a run from a spec file and waits for it (always; `--watch` shows progress even off a terminal). */
export async function startAndWait(file: string, options: { json: boolean; watch: boolean }): Promise<RunSummary> {
  let yaml: string;
  try {
    yaml = readFileSync(file, 'utf8');
  } catch {
    throw new UsageError(`cannot read ${file}`);
  }
  const { runId } = await callText<{ runId: string }>('training', 'POST', '/runs', yaml, 'text/yaml');
  const totalTrials = Number(/trials:\s*(\d+)/.exec(yaml)?.[1] ?? 1);
  const show = options.watch ? !options.json : progressEnabled(process.stderr, options.json);
  const status = new StatusLine(process.stderr);
  if (!options.json) console.error(`run ${runId} started`);
  for (;;) {
    const run = await call<RunSummary>('training', 'GET', `/runs/${runId}`);
    if (show) {
      const curves = await call<{ curves: Record<string, unknown[]> }>('training', 'GET', `/runs/${runId}/curves`).catch(() => undefined);
      const final = curves?.curves.final?.length;
      status.update(trialBar(run, totalTrials, final ? { epochs: final } : undefined), options.watch);
    }
    if (ended(run)) {
      if (show) status.done(trialBar(run, totalTrials));
      return run;
    }
    await sleep(500);
  }
}

export function printRun(run: RunSummary): void {
  console.log(`run ${run.runId} (${run.experiment}, ${run.task}): ${run.status}${run.error ? ` — ${run.error}` : ''}`);
  for (const w of run.warnings ?? []) console.log(`warning: ${w}`);
  if (run.trials.length > 1) {
    printTable(
      run.trials.map((t) => ({ trial: t.trial, status: t.status, params: JSON.stringify(t.params), ...Object.fromEntries(Object.entries(t.metrics).map(([k, v]) => [k, formatNumber(v)])) })),
      ['trial', 'status', 'params', ...[...new Set(run.trials.flatMap((t) => Object.keys(t.metrics)))].slice(0, 4)],
    );
  }
  if (run.metrics) {
    console.log('\nholdout metrics:');
    printTable(
      Object.entries(run.metrics).map(([metric, value]) => ({
        metric,
        value: formatNumber(value),
        baseline: formatNumber(run.evaluation?.baseline.metrics[metric]),
        gate: run.evaluation?.comparison[metric] ? `${run.evaluation.comparison[metric].passed ? 'pass' : 'FAIL'} (${run.evaluation.comparison[metric].rule})` : '',
      })),
      ['metric', 'value', 'baseline', 'gate'],
    );
    console.log(`\nbaseline: ${run.evaluation?.baseline.kind} · blessed: ${run.blessed ? 'yes' : 'no'} · weights sha256 ${run.weightsSha256}`);
  }
}

/** `mlp train <spec.yaml> [--watch]`: exit 0 completed, 1 failed or cancelled. */
export async function train(args: string[], json: boolean): Promise<number> {
  const file = args.find((a) => !a.startsWith('--'));
  if (!file) throw new UsageError('usage: mlp train <train.yaml> [--watch] [--json]');
  const run = await startAndWait(file, { json, watch: args.includes('--watch') });
  if (json) console.log(JSON.stringify(runJson(run))); // one line: the last line of the output
  else printRun(run);
  return run.status === 'Completed' ? 0 : 1;
}

/** What `mlp runs <id> --artifact` downloads: the training service's artifact kinds. */
export const RUN_ARTIFACTS = ['model', 'weights', 'preprocessing', 'report', 'model-card'] as const;
export type RunArtifact = (typeof RUN_ARTIFACTS)[number];

/** `--artifact <kind> --output <file>` of `mlp runs <id>`, checked; undefined when neither is given. */
export function parseRunDownload(id: string | undefined, artifact: string | undefined, output: string | undefined): { artifact: RunArtifact; output: string } | undefined {
  if (artifact === undefined && output === undefined) return undefined;
  const usage = 'usage: mlp runs <id> --artifact model|weights|preprocessing|report|model-card --output <file>';
  if (!id) throw new UsageError(`--artifact needs a run id\n${usage}`);
  if (!artifact || !output) throw new UsageError(`--artifact and --output go together\n${usage}`);
  if (!(RUN_ARTIFACTS as readonly string[]).includes(artifact)) throw new UsageError(`--artifact must be one of ${RUN_ARTIFACTS.join(', ')}, got '${artifact}'`);
  return { artifact: artifact as RunArtifact, output };
}

/** `mlp runs [id] [--compare id2] [--experiment name] [--artifact kind --output file] [--json]`. */
export async function runs(args: string[], json: boolean): Promise<number> {
  const flag = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const positional = args.filter((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
  const [id] = positional;
  const wanted = parseRunDownload(id, flag('--artifact'), flag('--output'));
  if (id && wanted) {
    const d = await download('training', `/runs/${encodeURIComponent(id)}/artifacts/${wanted.artifact}`, wanted.output, {
      status: downloadStatus(json),
      label: `downloading ${wanted.artifact}`,
    });
    if (json) printJson({ runId: id, artifact: wanted.artifact, output: d.output, bytes: d.bytes, sha256: d.sha256 });
    else console.log(`wrote ${d.output}: ${wanted.artifact} of run ${id}, ${formatBytes(d.bytes)}, sha256 ${d.sha256}`);
    return 0;
  }
  const other = flag('--compare');
  if (id && other) {
    const cmp = await call<{ runs: { runId: string; params: Record<string, unknown> }[]; metrics: { metric: string; values: (number | null)[]; deltas: (number | null)[]; best: string | null }[] }>(
      'training',
      'GET',
      `/runs/compare?ids=${encodeURIComponent(id)},${encodeURIComponent(other)}`,
    );
    if (json) printJson(cmp);
    else {
      printTable(
        cmp.metrics.map((m) => ({ metric: m.metric, [id.slice(0, 8)]: formatNumber(m.values[0]), [other.slice(0, 8)]: formatNumber(m.values[1]), delta: formatNumber(m.deltas[1]), best: m.best?.slice(0, 8) ?? '' })),
        ['metric', id.slice(0, 8), other.slice(0, 8), 'delta', 'best'],
      );
    }
    return 0;
  }
  if (id) {
    const run = await call<RunSummary>('training', 'GET', `/runs/${encodeURIComponent(id)}`);
    if (json) printJson(run);
    else printRun(run);
    return 0;
  }
  const q = new URLSearchParams();
  if (flag('--experiment')) q.set('experiment', flag('--experiment')!);
  if (flag('--order-by')) q.set('orderBy', flag('--order-by')!);
  const list = await call<{ runs: RunSummary[] }>('training', 'GET', `/runs${q.size ? `?${q}` : ''}`);
  if (json) printJson(list);
  else {
    printTable(
      list.runs.map((r) => ({ run: r.runId, experiment: r.experiment, status: r.status, trials: r.trials.length, ...Object.fromEntries(Object.entries(r.metrics ?? {}).slice(0, 3).map(([k, v]) => [k, formatNumber(v)])), blessed: r.blessed ? 'yes' : '' })),
      ['run', 'experiment', 'status', 'trials', ...[...new Set(list.runs.flatMap((r) => Object.keys(r.metrics ?? {}).slice(0, 3)))], 'blessed'],
    );
  }
  return 0;
}

/** `mlp replay run <id> [--json]`: exit 0 identical, 3 different. */
export async function replay(args: string[], json: boolean): Promise<number> {
  const [what, id] = args.filter((a) => !a.startsWith('--'));
  if (what !== 'run' || !id) throw new UsageError('usage: mlp replay run <run id> [--json]');
  const r = await call<{ runId: string; identical: boolean; original: string; replayed: string; backend: string }>('training', 'POST', `/runs/${encodeURIComponent(id)}/replay`);
  if (json) console.log(JSON.stringify({ runId: r.runId, identical: r.identical, original: r.original, replayed: r.replayed }));
  else if (r.identical) console.log(`identical: run ${r.runId} re-trained on ${r.backend} to the same weights (sha256 ${r.original})`);
  else console.log(`different: run ${r.runId} re-trained on ${r.backend}: original ${r.original}, replayed ${r.replayed}`);
  return r.identical ? 0 : 3;
}
