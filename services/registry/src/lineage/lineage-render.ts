import { deterministicId } from '@mlp/contracts';
import type { LineageGraph, LineageNode } from './lineage.projection';

const short = (h: string) => (h ? h.slice(0, 12) : '?');

function label(n: LineageNode): string {
  switch (n.type) {
    case 'model-version':
      return `model ${n.model} v${n.version} (${n.status})`;
    case 'run':
      return `run ${n.runId} [${n.experiment}] ${n.status}; spec ${short(n.specHash)}, seed ${n.seed}, backend ${n.backend}, code ${n.codeVersion}, ${n.trials} trials${n.weightsSha256 ? `, weights ${short(n.weightsSha256)}` : ''}${n.blessed !== undefined ? `, blessed ${n.blessed ? 'yes' : 'no'}` : ''}`;
    case 'training-set':
      return `training set ${n.trainingSetId}: sha256 ${n.sha256}, ${n.rows} rows`;
    case 'materialization':
      return `materialization ${n.materializationId} of ${n.view} v${n.version}: offline sha256 ${short(n.offlineSha256)}, ${n.rows} rows`;
    case 'feature-view-version':
      return `feature view ${n.view} v${n.version}: spec ${short(n.specHash)}`;
    case 'dataset-version': {
      const reasons = Object.entries(n.quarantine.reasons).map(([r, c]) => `${r} ${c}`).join(', ');
      return (
        `dataset ${n.dataset} v${n.version} (${n.status}): sha256 ${n.sha256}; ${n.accepted}/${n.rows} rows accepted, ${n.quarantined} quarantined${reasons ? ` (${reasons})` : ''}` +
        `; quality report ${n.qualityReport.artifactKey}${n.failedChecks.length ? `; failed checks: ${n.failedChecks.map((c) => c.check).join(', ')}` : ''}`
      );
    }
    case 'artifact':
      return `file ${n.key}`;
    case 'batch-inference':
      return `batch inference ${n.jobId} (${n.status}): input ${n.input.ref} sha256 ${short(n.input.sha256)}, ${n.input.rows} rows${n.output ? ` → output sha256 ${short(n.output.sha256)}, ${n.output.rows} rows, ${n.rejected ?? 0} rejected` : ''}`;
  }
}

/** The graph as a printed tree, from the model version down to the data. */
export function renderLineageTree(graph: LineageGraph): string {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const parents = new Map<string, string[]>();
  for (const e of graph.edges) parents.set(e.to, [...(parents.get(e.to) ?? []), e.from]);
  const lines: string[] = [];
  const root = byId.get(graph.root);
  if (!root) return '';
  lines.push(label(root));
  if (root.type === 'model-version') {
    for (const h of root.aliases) lines.push(`  alias ${h.alias}: ${h.from} → ${h.to ?? 'now'} (${h.kind}${h.actor ? ` by ${h.actor}` : ''}${h.reason ? `: ${h.reason}` : ''})`);
    if (root.deployments.length === 0) lines.push('  deployments: none recorded');
    for (const e of graph.edges) if (e.from === graph.root && e.relation === 'predicted-with') lines.push(`  ${label(byId.get(e.to)!)}`);
  }
  const walk = (id: string, prefix: string, seen: Set<string>) => {
    // Upstream only: the version's batch jobs are listed above.
    const ups = (parents.get(id) ?? []).filter((p) => byId.get(p)?.type !== 'batch-inference');
    ups.forEach((p, i) => {
      const last = i === ups.length - 1;
      const node = byId.get(p);
      if (!node) return;
      lines.push(`${prefix}${last ? '└─ ' : '├─ '}${label(node)}`);
      if (!seen.has(p)) walk(p, `${prefix}${last ? '   ' : '│  '}`, new Set([...seen, p]));
    });
  };
  walk(graph.root, '', new Set([graph.root]));
  return `${lines.join('\n')}\n`;
}

const PRODUCER = 'https://github.com/mlp/mlp/tree/main/services/registry';
const RUN_EVENT_SCHEMA = 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent';
const FACET_SCHEMA = 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunFacet';
const DATASET_FACET_SCHEMA = 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetFacet';

export interface OpenLineageDataset {
  namespace: string;
  name: string;
  facets: Record<string, Record<string, unknown>>;
}

export interface OpenLineageRunEvent {
  eventType: 'START' | 'COMPLETE' | 'FAIL' | 'ABORT' | 'RUNNING' | 'OTHER';
  eventTime: string;
  producer: string;
  schemaURL: string;
  run: { runId: string; facets: Record<string, Record<string, unknown>> };
  job: { namespace: string; name: string; facets: Record<string, Record<string, unknown>> };
  inputs: OpenLineageDataset[];
  outputs: OpenLineageDataset[];
}

const custom = (body: Record<string, unknown>, schema = FACET_SCHEMA) => ({ _producer: PRODUCER, _schemaURL: schema, ...body });

function dataset(n: LineageNode, namespace: string): OpenLineageDataset {
  const facets: Record<string, Record<string, unknown>> = {};
  if (n.type === 'dataset-version') {
    facets.version = custom({ datasetVersion: String(n.version) }, 'https://openlineage.io/spec/facets/1-0-1/DatasetVersionDatasetFacet.json#/$defs/DatasetVersionDatasetFacet');
    facets.mlp_dataset = custom({ sha256: n.sha256, sourceSha256: n.sourceSha256, rows: n.rows, accepted: n.accepted, quarantined: n.quarantined, qualityReport: n.qualityReport.artifactKey, quarantine: n.quarantine }, DATASET_FACET_SCHEMA);
  } else if (n.type === 'training-set') facets.mlp_dataset = custom({ sha256: n.sha256, rows: n.rows }, DATASET_FACET_SCHEMA);
  else if (n.type === 'materialization') facets.mlp_dataset = custom({ sha256: n.offlineSha256, rows: n.rows, view: n.view, viewVersion: n.version }, DATASET_FACET_SCHEMA);
  else if (n.type === 'model-version') facets.mlp_model = custom({ model: n.model, version: n.version, aliases: n.aliases }, DATASET_FACET_SCHEMA);
  return { namespace, name: n.id, facets };
}

/**
 * The graph as OpenLineage RunEvents (spec 2-0-2): one COMPLETE event per job that produced a node of the
 * graph — ingestion (→ dataset version), materialization (dataset → offline table), training-set build,
 * training run (inputs → model version). Run ids are the run's uuid, or a uuid derived from the node id.
 */
export function toOpenLineage(graph: LineageGraph, namespace = 'mlp'): OpenLineageRunEvent[] {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const inputsOf = (id: string) => graph.edges.filter((e) => e.to === id).map((e) => byId.get(e.from)!).filter(Boolean);
  const events: OpenLineageRunEvent[] = [];
  const event = (runId: string, eventTime: string, job: string, runFacets: Record<string, unknown>, inputs: LineageNode[], outputs: LineageNode[]): OpenLineageRunEvent => ({
    eventType: 'COMPLETE',
    eventTime,
    producer: PRODUCER,
    schemaURL: RUN_EVENT_SCHEMA,
    run: { runId, facets: { mlp: custom(runFacets) } },
    job: { namespace, name: job, facets: {} },
    inputs: inputs.map((n) => dataset(n, namespace)),
    outputs: outputs.map((n) => dataset(n, namespace)),
  });
  for (const n of graph.nodes) {
    if (n.type === 'dataset-version') events.push(event(deterministicId('openlineage', n.id), n.at, `ingestion.${n.dataset}`, { source: n.source, status: n.status }, [], [n]));
    else if (n.type === 'materialization') events.push(event(deterministicId('openlineage', n.id), n.at, `feature-store.materialize.${n.view}`, { materializationId: n.materializationId }, inputsOf(n.id).filter((x) => x.type === 'dataset-version'), [n]));
    else if (n.type === 'training-set') events.push(event(deterministicId('openlineage', n.id), n.at, 'feature-store.training-set', { trainingSetId: n.trainingSetId }, inputsOf(n.id), [n]));
    else if (n.type === 'run') {
      const outputs = graph.edges.filter((e) => e.from === n.id && e.relation === 'registered-as').map((e) => byId.get(e.to)!).filter(Boolean);
      events.push(
        event(/^[0-9a-f-]{36}$/.test(n.runId) ? n.runId : deterministicId('openlineage', n.id), n.endedAt ?? n.requestedAt, `training.${n.experiment}`, {
          specHash: n.specHash,
          seed: n.seed,
          backend: n.backend,
          codeVersion: n.codeVersion,
          trials: n.trials,
          weightsSha256: n.weightsSha256,
          metrics: n.metrics,
        }, inputsOf(n.id), outputs),
      );
    } else if (n.type === 'batch-inference') {
      const outputs = graph.edges.filter((e) => e.from === n.id && e.relation === 'output-of').map((e) => byId.get(e.to)!).filter(Boolean);
      events.push(event(/^[0-9a-f-]{36}$/.test(n.jobId) ? n.jobId : deterministicId('openlineage', n.id), n.at, `serving.batch-inference.${n.model}`, { status: n.status, rejected: n.rejected }, inputsOf(n.id), outputs));
    }
  }
  // By time; at equal times upstream first (the longer the path down to the root, the earlier).
  const depth = new Map<string, number>();
  const depthOf = (id: string, seen = new Set<string>()): number => {
    if (depth.has(id)) return depth.get(id)!;
    if (seen.has(id)) return 0;
    seen.add(id);
    const d = Math.max(0, ...graph.edges.filter((e) => e.from === id).map((e) => 1 + depthOf(e.to, seen)));
    depth.set(id, d);
    return d;
  };
  const outputDepth = (e: OpenLineageRunEvent) => depthOf(e.outputs[0]?.name ?? '');
  return events.sort((a, b) => a.eventTime.localeCompare(b.eventTime) || outputDepth(b) - outputDepth(a));
}
