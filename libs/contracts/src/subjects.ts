import { categoryOf } from './streams';
import type { ServiceName } from './services';

/**
 * Every NATS subject and message pattern of the platform. Nothing else in the
 * code base spells a subject as a string literal.
 */
const cmd = <S extends ServiceName, N extends string>(service: S, name: N) => `mlp.cmd.${service}.${name}` as const;
const qry = <S extends ServiceName, N extends string>(service: S, name: N) => `mlp.qry.${service}.${name}` as const;

export const subjects = {
  cmd: {
    ingestion: {
      registerDataset: cmd('ingestion', 'register-dataset'),
      declareSchema: cmd('ingestion', 'declare-schema'),
      startIngestion: cmd('ingestion', 'start-ingestion'),
    },
    featureStore: {
      applyFeatureViews: cmd('feature-store', 'apply-feature-views'),
      materialize: cmd('feature-store', 'materialize'),
      buildTrainingSet: cmd('feature-store', 'build-training-set'),
    },
    training: {
      startRun: cmd('training', 'start-run'),
      cancelRun: cmd('training', 'cancel-run'),
      replayRun: cmd('training', 'replay-run'),
    },
    monitoring: {
      applyPolicy: cmd('monitoring', 'apply-policy'),
    },
    registry: {
      createModel: cmd('registry', 'create-model'),
      describeModel: cmd('registry', 'describe-model'),
      tagModel: cmd('registry', 'tag-model'),
      deleteModel: cmd('registry', 'delete-model'),
      setPolicy: cmd('registry', 'set-policy'),
      registerVersion: cmd('registry', 'register-version'),
      tagVersion: cmd('registry', 'tag-version'),
      approveVersion: cmd('registry', 'approve-version'),
      archiveVersion: cmd('registry', 'archive-version'),
      assignAlias: cmd('registry', 'assign-alias'),
      removeAlias: cmd('registry', 'remove-alias'),
      rollbackAlias: cmd('registry', 'rollback-alias'),
    },
    /** Rollouts (deployment-<model>): any serving instance of the queue group handles them. */
    serving: {
      startDeployment: cmd('serving', 'start-deployment'),
      shiftTraffic: cmd('serving', 'shift-traffic'),
      promoteDeployment: cmd('serving', 'promote-deployment'),
      rollbackDeployment: cmd('serving', 'rollback-deployment'),
      /** Batch inference (batch-<jobId>): the instance that takes the command runs the job. */
      startBatchInference: cmd('serving', 'start-batch-inference'),
    },
  },
  /** Operations every service answers (service-kit owns the handlers). */
  admin: {
    /** Rebuild each registered read model from the log and compare it with the live one. */
    verifyProjections: (service: ServiceName) => cmd(service, 'verify-projections'),
  },
  qry: {
    /** Every service answers ping: the transport half of readiness. */
    ping: (service: ServiceName) => qry(service, 'ping'),
    serving: {
      getDeployment: qry('serving', 'get-deployment'),
      getBatchInference: qry('serving', 'get-batch-inference'),
    },
    ingestion: {
      listDatasets: qry('ingestion', 'list-datasets'),
      getDataset: qry('ingestion', 'get-dataset'),
      getIngestion: qry('ingestion', 'get-ingestion'),
    },
    registry: {
      getModel: qry('registry', 'get-model'),
      listModels: qry('registry', 'list-models'),
      listVersions: qry('registry', 'list-versions'),
      getVersion: qry('registry', 'get-version'),
      searchVersions: qry('registry', 'search-versions'),
      compareVersions: qry('registry', 'compare-versions'),
      aliasHistory: qry('registry', 'alias-history'),
      modelLineage: qry('registry', 'model-lineage'),
      datasetModels: qry('registry', 'dataset-models'),
    },
    featureStore: {
      getOnlineFeatures: qry('feature-store', 'get-online-features'),
      listFeatureViews: qry('feature-store', 'list-feature-views'),
      getFeatureView: qry('feature-store', 'get-feature-view'),
    },
    monitoring: {
      getMonitor: qry('monitoring', 'get-monitor'),
      getPolicy: qry('monitoring', 'get-policy'),
      listAlerts: qry('monitoring', 'list-alerts'),
      serviceHealth: qry('monitoring', 'service-health'),
      driftHistory: qry('monitoring', 'drift-history'),
      performanceHistory: qry('monitoring', 'performance-history'),
      compareArms: qry('monitoring', 'compare-arms'),
    },
    training: {
      getRun: qry('training', 'get-run'),
      listRuns: qry('training', 'list-runs'),
      listExperiments: qry('training', 'list-experiments'),
      compareRuns: qry('training', 'compare-runs'),
      runCurves: qry('training', 'run-curves'),
    },
  },
  /** Work queues (JetStream, WorkQueue retention): each message is taken by exactly one worker of the pool. */
  work: {
    trials: { stream: 'MLP_TRIALS', subject: 'mlp.work.training.trials', consumer: 'training-workers' },
  },
  /** Event store on JetStream: one subject per aggregate stream, grouped by category. */
  evt: {
    stream: 'MLP_EVENTS',
    prefix: 'mlp.evt',
    forStream: (stream: string) => `mlp.evt.${categoryOf(stream)}.${stream}`,
    forCategory: (category: string) => `mlp.evt.${category}.>`,
    all: 'mlp.evt.>',
  },
  /** High-volume telemetry, never aggregate events. */
  tel: {
    stream: 'MLP_TELEMETRY',
    predictions: (model: string) => `mlp.tel.predictions.${model}`,
    feedback: (model: string) => `mlp.tel.feedback.${model}`,
    all: 'mlp.tel.>',
  },
  /** Streaming ingestion: JetStream stream MLP_DATA, one subject per dataset. */
  data: {
    stream: 'MLP_DATA',
    forDataset: (dataset: string) => `mlp.data.${dataset}`,
    all: 'mlp.data.>',
  },
} as const;

/** `mlp.cmd.registry.create-model` → `registry`: used to route TCP clients in embedded mode. */
export function serviceOfSubject(subject: string): ServiceName | undefined {
  const m = /^mlp\.(?:cmd|qry)\.([a-z-]+)\./.exec(subject);
  return m ? (m[1] as ServiceName) : undefined;
}
