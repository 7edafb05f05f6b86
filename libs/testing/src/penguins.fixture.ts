import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IngestionOutcome } from '@mlp/contracts';
import { repoRoot } from './processes';

/** The bundled Palmer penguins data (344 rows, 2 without measurements, `NA` for missing values). */
export const penguinsFiles = {
  csv: join(repoRoot, 'examples/data/penguins.csv'),
  schema: join(repoRoot, 'examples/data/penguins.schema.yaml'),
};

export interface PenguinsSpecOptions {
  experiment?: string;
  /** `seed: N`; none: the spec has no seed line. */
  seed?: number;
  /** Declare `sex` as the sensitive column (fairness metrics). */
  sensitive?: boolean;
  /** The `model:` value. */
  model?: string;
  /** The `evaluation:` value. */
  evaluation?: string;
  /** Lines after `split:` (e.g. `cv: …`, `search: …`). */
  extra?: string;
}

/**
 * A multiclass training spec for species on the penguins dataset, with the
 * usual preprocessing (median/most-frequent imputation, standard scaling,
 * one-hot) and a stratified 25 % holdout; the options change what specs vary.
 */
export function penguinsSpec(options: PenguinsSpecOptions = {}): string {
  const {
    experiment = 'penguins',
    seed,
    sensitive = false,
    model = '{type: mlp, layers: [8], epochs: 25, batchSize: 32, learningRate: 0.02}',
    evaluation = '{baseline: naive}',
    extra,
  } = options;
  return [
    `experiment: ${experiment}`,
    'task: multiclass',
    'data:',
    '  dataset: {name: penguins}',
    '  label: species',
    ...(sensitive ? ['  sensitive: [sex]'] : []),
    'preprocessing:',
    '  - {impute: median, columns: numeric}',
    '  - {impute: most_frequent, columns: categorical}',
    '  - {scale: standard, columns: numeric}',
    '  - {encode: onehot, columns: categorical}',
    'split: {method: stratified, test: 0.25}',
    ...(extra ? [extra.trimEnd()] : []),
    `model: ${model}`,
    ...(seed === undefined ? [] : [`seed: ${seed}`]),
    `evaluation: ${evaluation}`,
    '',
  ].join('\n');
}

/**
 * Declares the penguins schema and uploads the CSV (`NA` as null) to the
 * ingestion service at `ingestionUrl`; `headers` carry an API key where auth
 * is on. `csv` replaces the bundled rows (a filtered copy, say).
 */
export async function ingestPenguins(ingestionUrl: string, options: { headers?: Record<string, string>; csv?: string | Buffer } = {}): Promise<IngestionOutcome> {
  const headers = options.headers ?? {};
  const schema = await fetch(`${ingestionUrl}/datasets/penguins/schema`, { method: 'PUT', headers: { ...headers, 'content-type': 'text/yaml' }, body: readFileSync(penguinsFiles.schema, 'utf8') });
  if (!schema.ok) throw new Error(`declaring the penguins schema: ${schema.status} ${await schema.text()}`);
  const upload = await fetch(`${ingestionUrl}/datasets/penguins/upload?format=csv&null=NA`, { method: 'PUT', headers: { ...headers, 'content-type': 'text/csv' }, body: options.csv ?? readFileSync(penguinsFiles.csv) });
  const outcome = (await upload.json()) as IngestionOutcome;
  if (!upload.ok || outcome.status !== 'accepted') throw new Error(`uploading penguins: ${upload.status} ${JSON.stringify(outcome)}`);
  return outcome;
}

export type PenguinFeatures = Record<string, string | number | null>;

/** The penguins rows with measurements (NA → null, numbers parsed), species included. */
export function penguinRows(): PenguinFeatures[] {
  const [header, ...lines] = readFileSync(penguinsFiles.csv, 'utf8').trim().split('\n');
  const names = header.split(',');
  return lines
    .map((line) => Object.fromEntries(line.split(',').map((v, i) => [names[i], v === 'NA' ? null : /^[0-9.]+$/.test(v) ? Number(v) : v])) as PenguinFeatures)
    .filter((r) => r.bill_length_mm !== null);
}

/**
 * `n` rows resampled as serving traffic (features, and the species as the
 * label), drawn with `rng.int(min, max)` (SeededRng); `shift` moves three
 * measurements and sets the island: drift for every test.
 */
export function penguinsTraffic(rows: readonly PenguinFeatures[], rng: { int(min: number, max: number): number }, n: number, shift = false): { features: PenguinFeatures; species: string }[] {
  const plus = (v: string | number | null, d: number) => (typeof v === 'number' ? v + d : v);
  return Array.from({ length: n }, () => {
    const { species, ...f } = rows[rng.int(0, rows.length)];
    const features = shift ? { ...f, island: 'Biscoe', bill_length_mm: plus(f.bill_length_mm, 8), flipper_length_mm: plus(f.flipper_length_mm, 15), body_mass_g: plus(f.body_mass_g, 600) } : f;
    return { features, species: species as string };
  });
}
