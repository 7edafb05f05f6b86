import { join } from 'node:path';
import { formatNumber } from '../output';
import { runJson, startAndWait } from './train';

export const demoTrainingSpec = join(__dirname, '..', '..', '..', '..', 'examples', 'training', 'penguins.train.yaml');

/** Trains the penguins classifier (a short TPE search) on the dataset the ingestion demo just stored. */
export async function demoTraining(json: boolean): Promise<{ lines: string[]; json: ReturnType<typeof runJson>; experiment: string; blessed: boolean }> {
  const run = await startAndWait(demoTrainingSpec, { json, watch: false });
  if (run.status !== 'Completed') throw new Error(`demo training ${run.status}: ${run.error ?? ''}`);
  const m = run.metrics ?? {};
  const lines = [
    `trained '${run.experiment}' (run ${run.runId}): ${run.trials.length} trials, best ${JSON.stringify(run.params)}`,
    `holdout: ${['accuracy', 'f1_macro', 'roc_auc', 'log_loss'].filter((k) => m[k] !== undefined).map((k) => `${k} ${formatNumber(m[k])}`).join(', ')}; blessed: ${run.blessed ? 'yes' : 'no'}`,
    `reproduce it with: npx mlp replay run ${run.runId}`,
  ];
  return { lines, json: runJson(run), experiment: run.experiment, blessed: run.blessed === true };
}
