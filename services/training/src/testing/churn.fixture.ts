/** The small churn dataset of the retraining and online-learning int specs: schema, spec and deterministic rows. */
export const CHURN_SCHEMA = `dataset: churn
columns:
  tenure:  {type: float, required: true}
  monthly: {type: float, required: true}
  churned: {type: category, required: true, values: ['no', 'yes']}
`;

export const CHURN_SPEC = `experiment: churn
task: binary
data:
  dataset: {name: churn, version: 1}
  label: churned
preprocessing:
  - {scale: standard, columns: numeric}
split: {method: random, test: 0.25}
model: {type: logistic, epochs: 8, batchSize: 32, learningRate: 0.1}
evaluation: {baseline: naive}
seed: 3
`;

/** Deterministic rows: churn when the tenure is short and the bill high; `shift` moves the bill. */
export function churnRows(n: number, seed: number, shift = 0): { tenure: number; monthly: number; churned: 'yes' | 'no' }[] {
  let s = seed;
  const next = () => (s = (s * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  return Array.from({ length: n }, () => {
    const tenure = Math.round(next() * 600) / 10;
    const monthly = Math.round((20 + shift + next() * 80) * 100) / 100;
    return { tenure, monthly, churned: -tenure / 10 + (monthly - shift) / 25 + (next() - 0.5) > 0 ? 'yes' : 'no' };
  });
}

/** The rows as CSV. */
export function churnCsv(n: number, seed: number, shift = 0): string {
  return `${['tenure,monthly,churned', ...churnRows(n, seed, shift).map((r) => `${r.tenure},${r.monthly},${r.churned}`)].join('\n')}\n`;
}
