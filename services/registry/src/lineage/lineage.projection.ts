import { createHash } from 'node:crypto';
import type { EventData, RecordedEvent } from '@mlp/contracts';
import type { VerifiableProjection } from '@mlp/eventstore';

export interface DatasetVersionNode {
  id: string;
  type: 'dataset-version';
  dataset: string;
  version: number;
  /** sha256 of the accepted rows (Parquet) and of the source bytes. */
  sha256: string;
  sourceSha256: string;
  source: string;
  rows: number;
  accepted: number;
  quarantined: number;
  status: string;
  schemaHash: string;
  qualityReport: { artifactKey: string; summary: Record<string, unknown> };
  quarantine: { artifactKey: string | null; reasons: Record<string, number> };
  failedChecks: { check: string; message: string }[];
  at: string;
}

export interface FeatureViewVersionNode {
  id: string;
  type: 'feature-view-version';
  view: string;
  version: number;
  specHash: string;
  source: { dataset: string; version?: number; mode: string };
  at: string;
}

export interface MaterializationNode {
  id: string;
  type: 'materialization';
  view: string;
  version: number;
  materializationId: string;
  datasets: string[];
  offlineSha256: string;
  rows: number;
  at: string;
}

export interface TrainingSetNode {
  id: string;
  type: 'training-set';
  trainingSetId: string;
  sha256: string;
  rows: number;
  inputs: { ref: string; sha256: string }[];
  at: string;
}

export interface RunNode {
  id: string;
  type: 'run';
  runId: string;
  experiment: string;
  specHash: string;
  seed: number;
  backend: string;
  codeVersion: string;
  data: { sha256: string; rows: number; trainingSetId?: string };
  inputs: { ref: string; sha256: string }[];
  featureViews: string[];
  trials: number;
  status: 'running' | 'completed' | 'failed' | 'cancelled';
  weightsSha256?: string;
  blessed?: boolean;
  metrics?: Record<string, number>;
  requestedAt: string;
  endedAt?: string;
}

export interface AliasHolding {
  alias: string;
  from: string;
  to: string | null;
  kind: string;
  reason: string;
  actor: string;
}

export interface ModelVersionNode {
  id: string;
  type: 'model-version';
  model: string;
  version: number;
  runId: string;
  status: 'active' | 'archived';
  aliases: AliasHolding[];
  /** Serving's deployments of this version (none are recorded yet). */
  deployments: unknown[];
  at: string;
}

/** A batch inference job of serving: input → model version → output (downstream of the version). */
export interface BatchInferenceNode {
  id: string;
  type: 'batch-inference';
  jobId: string;
  model: string;
  version: number;
  /** `dataset:<name>@<v>` or `artifact:<key>` (an uploaded file), with the input's sha256. */
  input: { ref: string; sha256: string; rows: number };
  status: 'running' | 'completed' | 'failed';
  output?: { artifactKey: string; sha256: string; rows: number };
  rejected?: number;
  at: string;
}

export type LineageNode = DatasetVersionNode | FeatureViewVersionNode | MaterializationNode | TrainingSetNode | RunNode | ModelVersionNode | BatchInferenceNode | { id: string; type: 'artifact'; key: string; sha256: string };

export interface LineageEdge {
  from: string;
  to: string;
  relation: 'materialized-from' | 'materialization-of' | 'input-of' | 'trained-on' | 'registered-as' | 'predicted-with' | 'output-of';
}

export interface LineageGraph {
  root: string;
  nodes: LineageNode[];
  edges: LineageEdge[];
}

/** sha256 of a value's canonical JSON (keys sorted): the run's spec hash. */
export function canonicalHash(value: unknown): string {
  const canon = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(canon) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => [k, canon(x)])) : v;
  return createHash('sha256').update(JSON.stringify(canon(value))).digest('hex');
}

const types = new Set([
  'DatasetVersionIngested',
  'RowsQuarantined',
  'DataQualityCheckFailed',
  'FeatureViewDefined',
  'FeatureViewMaterialized',
  'TrainingSetBuilt',
  'TrainingRunRequested',
  'TrialCompleted',
  'ModelEvaluated',
  'TrainingRunCompleted',
  'TrainingRunFailed',
  'TrainingRunCancelled',
  'ModelVersionRegistered',
  'ModelVersionArchived',
  'ModelAliasAssigned',
  'ModelAliasRemoved',
  'BatchInferenceStarted',
  'BatchInferenceCompleted',
  'BatchInferenceFailed',
]);

/**
 * The lineage graph, built by a projection over the whole event store (every category): dataset versions
 * with their hashes, quality reports and quarantine → feature view versions and materializations → training
 * sets → runs (spec hash, seed, backend, code version, trials) → model versions → their aliases over time.
 */
export class LineageProjection implements VerifiableProjection {
  readonly name = 'registry.lineage';
  readonly version = 1;
  readonly filter = 'all' as const;
  private readonly nodes = new Map<string, LineageNode>();

  canHandle(event: RecordedEvent): boolean {
    return types.has(event.type);
  }

  handle(event: RecordedEvent): void {
    const at = event.occurredAt;
    switch (event.type) {
      case 'DatasetVersionIngested': {
        const d = event.data as EventData<'DatasetVersionIngested'>;
        const id = `dataset:${d.dataset}@${d.version}`;
        const prior = this.nodes.get(id) as DatasetVersionNode | undefined;
        this.nodes.set(id, {
          id,
          type: 'dataset-version',
          dataset: d.dataset,
          version: d.version,
          sha256: d.sha256,
          sourceSha256: d.sourceSha256,
          source: `${d.source.kind}:${d.source.uri}`,
          rows: d.rows,
          accepted: d.accepted,
          quarantined: d.quarantined,
          status: d.status,
          schemaHash: d.schemaHash,
          qualityReport: { artifactKey: d.reportArtifactKey, summary: d.report },
          quarantine: { artifactKey: d.quarantineArtifactKey, reasons: prior?.quarantine.reasons ?? {} },
          failedChecks: prior?.failedChecks ?? [],
          at,
        });
        break;
      }
      case 'RowsQuarantined': {
        const d = event.data as EventData<'RowsQuarantined'>;
        const node = this.dataset(d.dataset, d.version, at);
        node.quarantine = { artifactKey: node.quarantine.artifactKey ?? d.artifactKey, reasons: { ...d.reasons } };
        break;
      }
      case 'DataQualityCheckFailed': {
        const d = event.data as EventData<'DataQualityCheckFailed'>;
        this.dataset(d.dataset, d.version, at).failedChecks = d.checks.map((c) => ({ ...c }));
        break;
      }
      case 'FeatureViewDefined': {
        const d = event.data as EventData<'FeatureViewDefined'>;
        const id = `featureview:${d.name}@${d.version}`;
        this.nodes.set(id, { id, type: 'feature-view-version', view: d.name, version: d.version, specHash: d.specHash, source: { ...d.source }, at });
        break;
      }
      case 'FeatureViewMaterialized': {
        const d = event.data as EventData<'FeatureViewMaterialized'>;
        const id = `featureview:${d.name}@${d.version}/materialization:${d.materializationId}`;
        const versions = d.datasetVersions.length ? d.datasetVersions : [d.datasetVersion];
        this.nodes.set(id, {
          id,
          type: 'materialization',
          view: d.name,
          version: d.version,
          materializationId: d.materializationId,
          datasets: versions.map((v) => `dataset:${d.dataset}@${v}`),
          offlineSha256: d.offlineSha256,
          rows: d.rows,
          at,
        });
        break;
      }
      case 'TrainingSetBuilt': {
        const d = event.data as EventData<'TrainingSetBuilt'>;
        const id = `trainingset:${d.trainingSetId}`;
        this.nodes.set(id, { id, type: 'training-set', trainingSetId: d.trainingSetId, sha256: d.sha256, rows: d.rows, inputs: d.inputs.map((i) => ({ ...i })), at });
        break;
      }
      case 'TrainingRunRequested': {
        const d = event.data as EventData<'TrainingRunRequested'>;
        const id = `run:${d.runId}`;
        this.nodes.set(id, {
          id,
          type: 'run',
          runId: d.runId,
          experiment: d.experiment,
          specHash: canonicalHash(d.spec),
          seed: d.seed,
          backend: d.backend,
          codeVersion: d.codeVersion,
          data: { sha256: d.data.sha256, rows: d.data.rows, ...(d.data.trainingSetId ? { trainingSetId: d.data.trainingSetId } : {}) },
          inputs: d.inputs.map((i) => ({ ...i })),
          featureViews: d.featureViews.map((f) => `featureview:${f.name}@${f.version}`),
          trials: 0,
          status: 'running',
          requestedAt: at,
        });
        break;
      }
      case 'TrialCompleted':
      case 'ModelEvaluated':
      case 'TrainingRunCompleted':
      case 'TrainingRunFailed':
      case 'TrainingRunCancelled': {
        const run = this.nodes.get(`run:${(event.data as { runId: string }).runId}`) as RunNode | undefined;
        if (!run) break;
        if (event.type === 'TrialCompleted') run.trials++;
        else if (event.type === 'ModelEvaluated') run.metrics = { ...(event.data as EventData<'ModelEvaluated'>).metrics };
        else if (event.type === 'TrainingRunCompleted') {
          const d = event.data as EventData<'TrainingRunCompleted'>;
          Object.assign(run, { status: 'completed', weightsSha256: d.weightsSha256, blessed: d.blessed, endedAt: at });
        } else Object.assign(run, { status: event.type === 'TrainingRunFailed' ? 'failed' : 'cancelled', endedAt: at });
        break;
      }
      case 'ModelVersionRegistered': {
        const d = event.data as EventData<'ModelVersionRegistered'>;
        const id = `model:${d.name}@${d.version}`;
        this.nodes.set(id, { id, type: 'model-version', model: d.name, version: d.version, runId: d.runId, status: 'active', aliases: [], deployments: [], at });
        break;
      }
      case 'ModelVersionArchived': {
        const d = event.data as EventData<'ModelVersionArchived'>;
        const node = this.nodes.get(`model:${d.name}@${d.version}`) as ModelVersionNode | undefined;
        if (node) node.status = 'archived';
        break;
      }
      case 'ModelAliasAssigned':
      case 'ModelAliasRemoved': {
        const d = event.data as EventData<'ModelAliasAssigned'>;
        for (const node of this.nodes.values()) {
          if (node.type !== 'model-version' || node.model !== d.name) continue;
          for (const h of node.aliases) if (h.alias === d.alias && h.to === null) h.to = at;
        }
        if (event.type === 'ModelAliasAssigned') {
          const node = this.nodes.get(`model:${d.name}@${d.version}`) as ModelVersionNode | undefined;
          node?.aliases.push({ alias: d.alias, from: at, to: null, kind: d.kind, reason: d.reason, actor: d.actor });
        }
        break;
      }
      case 'BatchInferenceStarted': {
        const d = event.data as EventData<'BatchInferenceStarted'>;
        const ref = d.input.dataset ? `dataset:${d.input.dataset.name}@${d.input.dataset.version}` : `artifact:${d.input.artifactKey}`;
        const id = `batch:${d.jobId}`;
        this.nodes.set(id, { id, type: 'batch-inference', jobId: d.jobId, model: d.model.name, version: d.model.version, input: { ref, sha256: d.input.sha256, rows: d.input.rows }, status: 'running', at });
        break;
      }
      case 'BatchInferenceCompleted':
      case 'BatchInferenceFailed': {
        const node = this.nodes.get(`batch:${(event.data as { jobId: string }).jobId}`) as BatchInferenceNode | undefined;
        if (!node) break;
        if (event.type === 'BatchInferenceFailed') node.status = 'failed';
        else {
          const d = event.data as EventData<'BatchInferenceCompleted'>;
          Object.assign(node, { status: 'completed', output: { artifactKey: d.output.artifactKey, sha256: d.output.sha256, rows: d.output.rows }, rejected: d.rejected });
        }
        break;
      }
    }
  }

  reset(): void {
    this.nodes.clear();
  }

  node(id: string): LineageNode | undefined {
    return this.nodes.get(id);
  }

  /**
   * Everything upstream of a model version, and its aliases over time; with `downstream` (the default)
   * also the batch inference jobs it ran: input → job ← version, job → output file.
   */
  modelVersionGraph(model: string, version: number, options: { downstream?: boolean } = {}): LineageGraph | undefined {
    const root = `model:${model}@${version}`;
    const mv = this.nodes.get(root) as ModelVersionNode | undefined;
    if (!mv) return undefined;
    const nodes = new Map<string, LineageNode>([[root, mv]]);
    const edges: LineageEdge[] = [];
    const add = (id: string): boolean => {
      if (nodes.has(id)) return true;
      const node = this.nodes.get(id) ?? this.placeholder(id);
      if (!node) return false;
      nodes.set(id, node);
      this.upstream(node, nodes, edges, add);
      return true;
    };
    const run = `run:${mv.runId}`;
    if (add(run)) edges.push({ from: run, to: root, relation: 'registered-as' });
    if (options.downstream ?? true) {
      for (const node of this.nodes.values()) {
        if (node.type !== 'batch-inference' || node.model !== model || node.version !== version) continue;
        nodes.set(node.id, node);
        edges.push({ from: root, to: node.id, relation: 'predicted-with' });
        if (add(node.input.ref)) edges.push({ from: node.input.ref, to: node.id, relation: 'input-of' });
        if (node.output && add(`artifact:${node.output.artifactKey}`)) edges.push({ from: node.id, to: `artifact:${node.output.artifactKey}`, relation: 'output-of' });
      }
    }
    return { root, nodes: [...nodes.values()], edges: dedupe(edges) };
  }

  /** Model versions trained (directly, through a training set or a materialization) on a dataset version. */
  modelsTrainedOn(dataset: string, version: number): ModelVersionNode[] {
    const target = `dataset:${dataset}@${version}`;
    const out: ModelVersionNode[] = [];
    for (const node of this.nodes.values()) {
      if (node.type !== 'model-version') continue;
      const graph = this.modelVersionGraph(node.model, node.version, { downstream: false });
      if (graph?.nodes.some((n) => n.id === target)) out.push(node);
    }
    return out.sort((a, b) => a.model.localeCompare(b.model) || a.version - b.version);
  }

  /** A plain-data copy of every node (what a rebuild must reproduce). */
  snapshot(): LineageNode[] {
    return JSON.parse(JSON.stringify([...this.nodes.values()].sort((a, b) => a.id.localeCompare(b.id))));
  }

  private dataset(name: string, version: number, at: string): DatasetVersionNode {
    const id = `dataset:${name}@${version}`;
    let node = this.nodes.get(id) as DatasetVersionNode | undefined;
    if (!node) {
      // RowsQuarantined is appended before the version itself: start the node, the version fills it in.
      node = { id, type: 'dataset-version', dataset: name, version, sha256: '', sourceSha256: '', source: '', rows: 0, accepted: 0, quarantined: 0, status: 'pending', schemaHash: '', qualityReport: { artifactKey: '', summary: {} }, quarantine: { artifactKey: null, reasons: {} }, failedChecks: [], at };
      this.nodes.set(id, node);
    }
    return node;
  }

  private placeholder(id: string): LineageNode | undefined {
    const m = /^artifact:(.+)$/.exec(id);
    return m ? { id, type: 'artifact', key: m[1], sha256: m[1].replace(/^sha256\//, '') } : undefined;
  }

  private upstream(node: LineageNode, nodes: Map<string, LineageNode>, edges: LineageEdge[], add: (id: string) => boolean): void {
    const link = (from: string, relation: LineageEdge['relation']) => {
      if (add(from)) edges.push({ from, to: node.id, relation });
    };
    switch (node.type) {
      case 'run':
        for (const i of node.inputs) link(i.ref, 'trained-on');
        for (const f of node.featureViews) if (!node.inputs.some((i) => i.ref.startsWith(`${f}/`))) link(f, 'trained-on');
        break;
      case 'training-set':
        for (const i of node.inputs) link(i.ref, 'input-of');
        break;
      case 'materialization':
        for (const d of node.datasets) link(d, 'materialized-from');
        link(`featureview:${node.view}@${node.version}`, 'materialization-of');
        break;
      default:
        break;
    }
    void nodes;
  }
}

function dedupe(edges: LineageEdge[]): LineageEdge[] {
  const seen = new Set<string>();
  return edges.filter((e) => {
    const k = `${e.from}>${e.to}>${e.relation}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
