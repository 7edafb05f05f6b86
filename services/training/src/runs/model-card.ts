import { parseStored, type EventData } from '@mlp/contracts';
import { trainingSpecSchema } from '@mlp/ml';

const fmt = (v: unknown): string => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(4)) : v === null || v === undefined ? '–' : String(v));

export interface ModelCardFacts {
  request: EventData<'TrainingRunRequested'>;
  prepared: EventData<'TrainingDataPrepared'>;
  split: EventData<'TrainingSetSplit'>;
  trials: EventData<'TrialCompleted'>[];
  /** Trials that ended without a result (error, timeout, retries exhausted). */
  failedTrials?: EventData<'TrialFailed'>[];
  evaluation: EventData<'ModelEvaluated'>;
  params: Record<string, unknown>;
  weightsSha256: string;
}

/** A Markdown model card, written only from the run's events: data, features, training, metrics, fairness, limitations. */
export function modelCard(f: ModelCardFacts): string {
  const { request, prepared, split, evaluation } = f;
  const spec = parseStored(trainingSpecSchema, request.spec, `training spec of run ${request.runId}`);
  const lines: string[] = [];
  lines.push(`# Model card: ${request.experiment} (run ${request.runId})`, '');
  lines.push(`**Task:** ${spec.task} · **label:** \`${spec.data.label}\` · **blessed:** ${evaluation.blessed ? 'yes' : 'no'}`, '');
  if (evaluation.gateFailures?.length) {
    lines.push('Not blessed because:');
    for (const g of evaluation.gateFailures) lines.push(`- ${g}`);
    lines.push('');
  }
  lines.push('## Data', '');
  for (const i of request.inputs) lines.push(`- \`${i.ref}\` (sha256 \`${i.sha256.slice(0, 12)}…\`)`);
  if (request.featureViews.length) lines.push(`- feature views: ${request.featureViews.map((v) => `${v.name} v${v.version}`).join(', ')}`);
  lines.push(`- ${prepared.rows} labelled rows; ${prepared.droppedMissingLabel} rows without a label left out`);
  lines.push(`- split: ${split.method}, ${Object.entries(split.sizes).map(([k, v]) => `${k} ${v}`).join(', ')}${split.cv ? `; CV ${split.cv.method} × ${split.cv.folds}` : ''}`);
  if (prepared.classes.length) lines.push(`- classes: ${prepared.classes.map(String).join(', ')}`);
  lines.push('', '## Features', '', `${prepared.features.length} input columns: ${prepared.features.map((c) => `\`${c}\``).join(', ')}`);
  if (prepared.dropped.length) {
    lines.push('', 'Not used:');
    for (const d of prepared.dropped) lines.push(`- \`${d.column}\`: ${d.reason}`);
  }
  lines.push('', '## Training', '');
  lines.push(`- model: ${Object.entries({ ...spec.model, ...f.params }).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')}`);
  lines.push(`- seed ${request.seed}, backend ${request.backend}${request.simd ? ' (SIMD)' : ''}, code ${request.codeVersion}`);
  lines.push(`- libraries: ${Object.entries(request.libraries).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  if (spec.search) {
    const failed = f.failedTrials ?? [];
    const complete = f.trials.filter((t) => t.status === 'complete').length;
    lines.push(
      `- search: ${spec.search.method}, ${f.trials.length + failed.length} trials (${complete} complete, ${f.trials.filter((t) => t.pruned).length} pruned, ${f.trials.filter((t) => t.status === 'failed').length + failed.length} failed)`,
    );
    for (const t of failed) lines.push(`  - trial ${t.trial} failed (${t.reason}, ${t.attempts} attempt${t.attempts === 1 ? '' : 's'}): ${t.error.class}: ${t.error.message}`);
  }
  lines.push(`- weights sha256 \`${f.weightsSha256}\``);
  lines.push('', '## Holdout metrics', '', '| metric | value | baseline | passed |', '|---|---|---|---|');
  for (const [m, v] of Object.entries(evaluation.metrics)) {
    const c = evaluation.comparison[m];
    lines.push(`| ${m} | ${fmt(v)} | ${fmt(evaluation.baseline.metrics[m])} | ${c ? (c.passed ? 'yes' : 'no') : ''} |`);
  }
  lines.push('', `Baseline: ${evaluation.baseline.kind}${evaluation.baseline.model ? ` (${evaluation.baseline.model} v${evaluation.baseline.version})` : ''}.`);
  if (evaluation.baseline.requested && evaluation.baseline.requested !== evaluation.baseline.kind) {
    lines.push('', `The spec asked for the ${evaluation.baseline.requested} baseline; the ${evaluation.baseline.kind} baseline was used instead because ${evaluation.baseline.fallbackReason ?? 'it was not available'}.`);
  }
  const omitted = Object.entries(evaluation.omittedMetrics ?? {});
  if (omitted.length) {
    lines.push('', 'Left out of the holdout metrics:');
    for (const [m, why] of omitted) lines.push(`- ${m}: ${why}`);
  }
  const attributes = (evaluation.fairness as { attributes?: Record<string, { slices: Record<string, Record<string, number | null>>; disparities?: Record<string, number | null> }> }).attributes ?? {};
  if (Object.keys(attributes).length) {
    lines.push('', '## Fairness', '');
    const positive = (evaluation.fairness as { positiveLabel?: unknown }).positiveLabel;
    if (positive !== undefined) lines.push(`Selection, true positive and false positive rates count \`${String(positive)}\` as the positive class.`, '');
    for (const [attr, rep] of Object.entries(attributes)) {
      lines.push(`### ${attr}`, '');
      const cols = [...new Set(Object.values(rep.slices).flatMap((s) => Object.keys(s)))];
      lines.push(`| slice | ${cols.join(' | ')} |`, `|---|${cols.map(() => '---').join('|')}|`);
      for (const [slice, m] of Object.entries(rep.slices)) lines.push(`| ${slice} | ${cols.map((c) => fmt(m[c])).join(' | ')} |`);
      if (rep.disparities) lines.push('', Object.entries(rep.disparities).map(([k, v]) => `${k}: ${fmt(v)}`).join(' · '));
      lines.push('');
    }
  }
  lines.push('', '## Limitations', '');
  lines.push(`- Metrics come from ${split.sizes.test ?? '?'} holdout rows of the same source; performance on newer or differently collected data may differ.`);
  if (!spec.data.sensitive?.length) lines.push('- No sensitive attributes were declared, so no fairness analysis was done.');
  if (prepared.warnings.length) for (const w of prepared.warnings) lines.push(`- ${w}`);
  lines.push('- Reproducible on the same backend: `mlp replay run ' + request.runId + '` re-trains and compares the weights sha256.');
  return lines.join('\n') + '\n';
}
