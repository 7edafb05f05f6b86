import { DomainError, ValidationError } from '@mlp/contracts';
import { CliError, UsageError } from './api';

const USAGE = `mlp: the event-sourced ML platform

usage: mlp <command> [--json]
  up [--no-demo]                 start all six services in this process (embedded: SQLite events, files under MLP_HOME)
  up --distributed [--no-demo]   each service as its own process: NATS transport, JetStream events and KV, S3 artifacts,
                                 auth on (MLP_ADMIN_KEY, else a generated key printed once and used by the demo); starts a
                                 nats-server (NATS_URL unset) and an s3rver (S3_ENDPOINT/ARTIFACTS_URL unset) itself;
                                 logs in MLP_HOME/logs/<service>.log; Ctrl-C stops every process it started
  models [--tag key=value]       list registered models (latest version, aliases)
  models <name>                  show one registered model: aliases, policy, revision
  models create <name> [--description text] [--tag key=value]...
  models versions <name> [--tag key=value]... [--metric 'accuracy>=0.9']... [--alias a]
                                 versions with status, aliases, metrics, run
  models register <name> --run <run-id> [--description text] [--tag key=value]...
                                 register a completed run by hand; prints the new version
  models history <name> [--alias production]
                                 every version that held the alias, from/to, how, by whom, why
  models policy <name> [--registration blessed-only|every-run|manual] [--approval alias]...
                                 show or set the registration policy (aliases needing an approval by another actor)
  promote <model> <version> --alias <a> [--reason text] [--expected-revision n]
                                 assign or move an alias (409 without a required approval, 412 on a concurrent change)
  promote <model> <version> --alias <a> --canary <percent>
                                 the same through a canary rollout on serving (mlp deploy … --strategy canary)
  approve <model> <version> --alias <a> [--reason text]
                                 approve a version for an alias (the approver must differ from whoever promotes)
  rollback <model> [--alias production] [--reason text]
                                 move the alias back to its previous holder (refused when it has none)
  lineage model <name> <version> [--openlineage]
                                 a version's lineage as a tree: dataset sha256, quality report and quarantine → feature
                                 views, materializations, training set → run (spec hash, seed, backend, code, trials) → aliases;
                                 --json for the graph, --openlineage for OpenLineage run events
  lineage dataset <name> <version>
                                 the model versions trained on a dataset version
  ingest <file|url> --dataset <name> [--schema schema.yaml] [--format csv|tsv|ndjson|json|parquet|arrow]
         [--delimiter ,] [--no-header] [--null NA]... [--infer-schema out.yaml]
                                 ingest a file (streamed, progress bar over 1 MB) or URL into a dataset;
                                 exit 0 accepted/duplicate, 1 failed, 3 rejected by the dataset's checks.
                                 --infer-schema only writes an editable schema inferred from the file
  datasets                       list datasets with their latest version
  datasets <name>                its versions: status, rows, quarantined, schema changes, failed checks
  datasets <name> --version N    a version's quality report: per-column stats, checks, quarantine reasons
  datasets <name> --version N --artifact report|quarantine|data --output <file>
                                 download the quality report (.json), quarantined rows (.parquet/.ndjson) or
                                 accepted rows (.parquet) over HTTP, streamed, checked against its sha256
  features apply <featureviews.yaml> [--force]
                                 define or update feature views (a breaking change to a view in use needs --force)
  features list                  feature views with their latest materialization
  features describe <view>       a view's features, versions and materializations
  features materialize <view> [--dataset-version N]
  features get <view> --entity key=value [--entity key=value]... [--feature f]...
                                 online values with their event time and status (present, missing, expired)
  features check-skew <view> [--sample N]
                                 compare online values with the offline table at the same event time; exit 3 on skew
  features training-set --entities <dataset[:version]|file.parquet|file.csv> --timestamp <column>
         --features <view[:feature],...> --output <file.parquet|file.csv>
                                 a point-in-time training set (a local entities file is ingested as <name>-entities first),
                                 downloaded from the feature store into --output
  train <train.yaml> [--watch]   train: trials and final-fit progress, then the holdout metrics table; --json prints
                                 {runId, status, metrics, model: {artifact, sha256}}; exit 0 completed, 1 failed/cancelled
  runs [--experiment e] [--order-by metric]
                                 list runs (best first with --order-by)
  runs <id> [--compare <id2>]    one run: trials, holdout metrics, gate; or two runs side by side
  runs <id> --artifact model|weights|preprocessing|report|model-card --output <file>
                                 download an artifact of a completed run (the model card is Markdown)
  replay run <id>                re-train a run from its events and inputs and compare the weights sha256 (exit 3 if different)
  replay projections [--service s]
                                 rebuild every read model from the log and compare it with the live one (exit 3 on a difference)
  export run <id> --output <run.tar.gz|run.tar>
                                 one archive of the run, the events of everything it depends on (experiment, training set,
                                 feature-view materializations, dataset versions) and every artifact they reference (sha256 manifest)
  import <archive>               restore a run archive into this platform (admin key): checked whole first, idempotent, event ids kept;
                                 then \`mlp replay run <id>\` works here too
  events [--stream s] [--type T] [--correlation id] [--limit n] [--follow]
                                 the event log: position, time, type, stream, correlation (--json: one event per line);
                                 the newest --limit (100) matches, then with --follow every new one until Ctrl-C
  drift --reference <dataset[:v]|file> --current <dataset[:v]|file> [--columns a,b] [--method col=method[:threshold]]...
                                 a one-off drift report per column (Evidently's tests: ks, chisquare, ztest, wasserstein,
                                 jensenshannon, psi, kl, hellinger, anderson); files are .csv/.tsv/.parquet
  monitor <model>                latest drift window per feature (method, statistic, p-value, threshold), performance per
                                 version and arm against the holdout, the arm comparison (winner, confidence), active alerts
  monitor apply <policy.yaml>    apply a model's monitoring policy: window, drift tests, performance floor, retraining schedule,
                                 actions on drift/degradation (alert, retrain, rollback), canary rules, alert webhook
  alerts [--model m] [--status active|resolved|all]
                                 alerts, newest first: condition, status, webhook deliveries
  predict <model[@alias|:version]> --input <rows.json|rows.ndjson|rows.csv> [--grpc]
                                 predictions from the served model (JSON API, or V2 gRPC with --grpc)
  batch-predict <model[@alias|:version]> --input <file.csv|file.parquet|dataset[:version]> --output <file.parquet|file.csv>
         [--rejects <file>] [--chunk-rows n]
                                 a resumable batch job in serving (chunks checkpointed as events; progress bar); downloads the
                                 predictions and the rejected rows with their reasons (<output>.rejects.<ext>); exit 1 if it failed
  serving status                 loaded versions with aliases, memory and request rates; aliases not served and why
  deploy <model> --version <v> --strategy blue-green|canary|ab|shadow [--weight <percent>] [--auto] [--sticky-header x-mlp-key]
         [--sticky-field f] [--steps 10,25,50 --every <s>] [--min-requests n] [--max-error-rate x] [--max-p99-ms n]
         [--spec rollout.yaml]  (a rollout spec: examples/deployments; flags win)
                                 start a rollout from the version the alias (production) holds: blue-green moves all traffic once the
                                 version is warm; canary moves --weight percent (by hand, --steps schedule, or --auto policy); ab
                                 splits sticky by a hash of the header/field; shadow mirrors --weight percent to it (telemetry only)
  deploy shift <model> --weight <percent>
  deploy promote|rollback <model> [--reason text]
                                 promote (the alias moves in the registry) or restore the stable version
  deployments <model>            the current split and the rollout history, replayed from events
  keys create --name <n> --scopes read,write
                                 create an API key (scopes: read, write, admin, push, predict); the token is printed once
                                 (\`--scope predict\` works too; the name defaults to <scopes>-key)
  keys list                      API keys: id, name, scopes, status (never a secret)
  keys revoke <id>               revoke a key on every service

The CLI talks to the embedded ports (7101-7106); MLP_<SERVICE>_URL points it elsewhere (another machine too:
artifacts are downloaded over HTTP, with a progress bar on a terminal). MLP_API_KEY (else MLP_ADMIN_KEY) is sent as x-api-key; with auth off, MLP_ACTOR names who acts (x-actor).`;

/** Each command's module is loaded when it runs: a CLI call compiles only what its command needs (the sources run through swc at start). */
async function main(argv: string[]): Promise<void> {
  const json = argv.includes('--json');
  const args = argv.filter((a) => a !== '--json');
  const [command, ...rest] = args;
  switch (command) {
    case 'up':
      process.env.LOG_LEVEL ??= 'warn'; // the table and demo lines, not Nest's start-up chatter
      await (await import('./commands/up')).up({ json, demo: !rest.includes('--no-demo'), distributed: rest.includes('--distributed') });
      return;
    case 'models':
      await (await import('./commands/models')).models(rest, json);
      process.exit(0);
      return;
    case 'promote':
      await (await import('./commands/models')).promote(rest, json);
      process.exit(0);
      return;
    case 'approve':
      await (await import('./commands/models')).approve(rest, json);
      process.exit(0);
      return;
    case 'rollback':
      await (await import('./commands/models')).rollback(rest, json);
      process.exit(0);
      return;
    case 'lineage':
      await (await import('./commands/lineage')).lineage(rest, json);
      process.exit(0);
      return;
    case 'ingest':
      process.exit(await (await import('./commands/ingest')).ingest(rest, json));
      return;
    case 'datasets':
      await (await import('./commands/datasets')).datasets(rest, json);
      process.exit(0);
      return;
    case 'features':
      process.exit(await (await import('./commands/features')).features(rest, json));
      return;
    case 'train':
      process.exit(await (await import('./commands/train')).train(rest, json));
      return;
    case 'runs':
      process.exit(await (await import('./commands/train')).runs(rest, json));
      return;
    case 'keys':
      await (await import('./commands/keys')).keys(rest, json);
      process.exit(0);
      return;
    case 'predict':
      await (await import('./commands/predict')).predict(rest, json);
      process.exit(0);
      return;
    case 'batch-predict':
      process.exit(await (await import('./commands/batch-predict')).batchPredict(rest, json));
      return;
    case 'deploy':
      await (await import('./commands/deploy')).deploy(rest, json);
      process.exit(0);
      return;
    case 'deployments':
      await (await import('./commands/deploy')).deployments(rest, json);
      process.exit(0);
      return;
    case 'serving':
      await (await import('./commands/serving')).serving(rest, json);
      process.exit(0);
      return;
    case 'drift':
      process.exit(await (await import('./commands/drift')).drift(rest, json));
      return;
    case 'monitor':
      if (rest[0] === 'apply') await (await import('./commands/alerts')).monitorApply(rest.slice(1), json);
      else await (await import('./commands/monitor')).monitor(rest, json);
      process.exit(0);
      return;
    case 'alerts':
      await (await import('./commands/alerts')).alerts(rest, json);
      process.exit(0);
      return;
    case 'events':
      await (await import('./commands/events')).events(rest, json);
      process.exit(0);
      return;
    case 'replay':
      process.exit(rest[0] === 'projections' ? await (await import('./commands/replay-projections')).replayProjections(rest.slice(1), json) : await (await import('./commands/train')).replay(rest, json));
      return;
    case 'export':
      process.exit(await (await import('./commands/archive')).exportRun(rest, json));
      return;
    case 'import':
      process.exit(await (await import('./commands/archive')).importArchive(rest, json));
      return;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return;
    default:
      console.error(`unknown command '${command}'\n\n${USAGE}`);
      process.exit(2);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof UsageError) {
    console.error(`error: ${err.message}`);
    process.exit(2);
  }
  if (err instanceof ValidationError) {
    console.error(`error: ${err.message}`);
    for (const d of err.details ?? []) console.error(`  ${d.path || '(input)'}: ${d.message}`);
  } else if (err instanceof DomainError || err instanceof CliError || err instanceof Error) {
    console.error(`error: ${err.message}`);
  } else {
    console.error(`error: ${String(err)}`);
  }
  process.exit(1);
});
