import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { serviceNames, streams, telemetryStream, type EventData, type RecordedEvent, type ServiceName } from '@mlp/contracts';
import { eventually, ingestPenguins, penguinsSpec, txnsSpendViewYaml } from '@mlp/testing';
import { connect } from 'nats';
import { FaultRig, logProblems, NO_PROBLEMS, ofType, readLog, since, snapshot, verifyProjections } from './fault-checks';

/** Rows of the big CSV: ingestion and materialization of it take seconds, so a kill lands mid-way. */
const BIG_ROWS = 800_000;
const VIEWS = txnsSpendViewYaml();
/** Four trials one after the other: a kill lands inside one of them. */
const SEARCH_SPEC = penguinsSpec({
  seed: 7,
  model: '{type: mlp, layers: [8], epochs: 40, batchSize: 32, learningRate: 0.02}',
  extra: 'search: {method: random, trials: 4, parallelism: 1, metric: accuracy, space: {lr: {loguniform: [0.005, 0.05]}}, pruning: false}',
});
const WINDOW = 200;

/** Read endpoints compared before and after a clean restart, per service. */
const READS: Record<ServiceName, string[]> = {
  ingestion: ['/datasets', '/datasets/txns', '/datasets/penguins'],
  'feature-store': ['/feature-views', '/feature-views/spend'],
  training: ['/runs', '/experiments'],
  registry: ['/models', '/models/penguins/versions', '/models/penguins/aliases'],
  serving: ['/v2/models/penguins', '/deployments/penguins'],
  monitoring: ['/monitors', '/monitors/penguins'],
};

/**
 * Faults, service by service, in distributed mode (six processes, a real
 * nats-server with JetStream, s3rver): each service is killed with -9 during
 * its busiest work and started again on the same port. After each restart the
 * interrupted work is resumed or cleanly ended (its terminal event is in the
 * log), and the whole JetStream log has no lost or doubled event: unique ids,
 * positions 1..N, every stream's revisions 0..n-1, and one outcome per
 * command or job. At the end, every service's read models equal a rebuild.
 */
describe('faults: kill -9 of each service during its busiest work', () => {
  jest.setTimeout(240_000);
  const rig = new FaultRig(17, 120_000);
  let dir: string;
  let runId: string;

  const log = () => readLog(rig.events);
  const kill = (name: string) => rig.platform.processes[name].kill('SIGKILL');
  const restart = async (name: ServiceName, extra?: NodeJS.ProcessEnv) => {
    const t0 = performance.now();
    await rig.platform.start(name, name, extra);
    return since(t0);
  };
  /** Monitoring's durable telemetry consumer has every record acknowledged. */
  const telemetryConsumed = async () => {
    const nc = await connect({ servers: rig.platform.nats.url });
    try {
      const info = await (await nc.jetstreamManager()).consumers.info(telemetryStream.stream, 'monitoring-telemetry');
      return info.num_pending === 0 && info.num_ack_pending === 0;
    } finally {
      await nc.close();
    }
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mlp-faults-'));
    const duck = await (await DuckDBInstance.create(':memory:')).connect();
    const generated = duck.run(`COPY (SELECT 't' || i AS txn_id, 'c' || (i % 20000) AS customer_id, (i % 997) * 1.5 AS amount,
      TIMESTAMP '2024-01-01' + INTERVAL (i * 3) SECOND AS ts FROM range(${BIG_ROWS}) t(i)) TO '${join(dir, 'big.csv')}' (HEADER)`);
    // Three at a time: six Node processes starting at once on two busy cores can outlast the readiness timeout.
    await rig.start(
      { prefix: 'e2e-faults', env: { MLP_INGEST_ROOTS: dir, MLP_TRAINING_WORKERS: '1', MLP_TRIAL_ACK_WAIT_MS: '3000', MLP_MONITORING_WINDOW: String(WINDOW) } },
      [serviceNames.slice(0, 3), serviceNames.slice(3)],
    );
    await generated;
  });

  afterAll(async () => {
    await rig.stop('fault figures');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('ingestion killed mid-file resumes the job after a restart: one version, one terminal event', async () => {
    const small = 'txn_id,customer_id,amount,ts\nt1,c1,10,2024-01-01 00:00:00\nt2,c2,5,2024-01-02 00:00:00\n';
    expect((await rig.platform.call('ingestion', 'PUT', '/datasets/txns/upload?format=csv', small, { contentType: 'text/csv' })).status).toBe(201);
    expect((await rig.platform.call('feature-store', 'PUT', '/feature-views', VIEWS, { contentType: 'text/yaml' })).status).toBe(200);

    const started = await rig.platform.call('ingestion', 'POST', '/datasets/txns/ingestions', { source: { kind: 'file', path: join(dir, 'big.csv') } });
    expect(started.status).toBe(202);
    const jobId = started.body.jobId as string;
    await new Promise((r) => setTimeout(r, 1000));
    await kill('ingestion');
    // Killed mid-file: the job has started and not ended, and the dataset has no second version.
    expect((await rig.events.readStream(streams.ingestion(jobId))).map((e) => e.type)).not.toContain('IngestionCompleted');
    expect(ofType(await log(), streams.dataset('txns'), 'DatasetVersionIngested')).toHaveLength(1);

    rig.figures.ingestionRestartMs = await restart('ingestion');
    const t0 = performance.now();
    const done = await eventually(async () => {
      const o = (await rig.platform.call('ingestion', 'GET', `/ingestions/${jobId}`)).body as { status: string };
      return o.status !== 'running' && o;
    }, 120_000, 'the resumed ingestion to end');
    rig.figures.ingestionResumedJobMs = since(t0);
    expect(done).toMatchObject({ status: 'accepted', version: 2, rows: BIG_ROWS, accepted: BIG_ROWS });

    const all = await log();
    expect(logProblems(all)).toEqual(NO_PROBLEMS);
    const job = all.filter((e) => e.stream === streams.ingestion(jobId)).map((e) => e.type);
    expect(job[0]).toBe('IngestionStarted');
    expect(job.filter((t) => t === 'IngestionCompleted' || t === 'IngestionFailed')).toEqual(['IngestionCompleted']);
    expect(ofType(all, streams.dataset('txns'), 'DatasetVersionIngested').map((e) => (e.data as EventData<'DatasetVersionIngested'>).version)).toEqual([1, 2]);
  });

  it('feature store killed mid-materialization materializes the new version exactly once after a restart', async () => {
    // Version 2 just landed: the auto-materialization process manager is working on it.
    const v2 = (await rig.events.readStream(streams.dataset('txns'))).find((e) => e.type === 'DatasetVersionIngested' && (e.data as { version: number }).version === 2)!;
    expect(v2).toBeDefined();
    const materializedV2 = async () => ofType(await log(), 'featureview-spend', 'FeatureViewMaterialized').filter((e) => (e.data as { datasetVersion: number }).datasetVersion === 2);
    await new Promise((r) => setTimeout(r, 700));
    await kill('feature-store');
    expect(await materializedV2()).toEqual([]); // killed before it finished (else: make BIG_ROWS bigger)

    rig.figures.featureStoreRestartMs = await restart('feature-store');
    const t0 = performance.now();
    await eventually(async () => (await materializedV2()).length > 0, 120_000, 'the materialization of txns v2');
    rig.figures.featureStoreResumedMaterializationMs = since(t0);
    await new Promise((r) => setTimeout(r, 1000)); // a duplicate would have time to appear
    const done = await materializedV2();
    expect(done).toHaveLength(1);
    expect(done[0]).toMatchObject({ causationId: v2.id, data: { rows: expect.any(Number) } });
    const view = (await rig.platform.call('feature-store', 'GET', '/feature-views/spend')).body as { materializations: { datasetVersion: number }[] };
    expect(view.materializations.map((m) => m.datasetVersion).sort()).toEqual([2]);
    expect(logProblems(await log())).toEqual(NO_PROBLEMS);
  });

  it('training killed mid-trial resumes the search: every trial once, the run completes and is registered once', async () => {
    await ingestPenguins(rig.platform.url('ingestion', ''), { headers: { 'x-api-key': rig.platform.adminKey } });
    const started = await rig.platform.call('training', 'POST', '/runs', SEARCH_SPEC, { contentType: 'text/yaml' });
    expect(started.status).toBe(202);
    runId = started.body.runId as string;
    const stream = streams.run(runId);
    const trials = (evts: RecordedEvent[], type: string) => evts.filter((e) => e.type === type).map((e) => (e.data as { trial: number }).trial);

    // Kill the only training process (coordinator and worker) while a trial after the first is running.
    const held = await eventually(async () => {
      const evts = await rig.events.readStream(stream);
      const done = new Set(trials(evts, 'TrialCompleted'));
      const open = trials(evts, 'TrialStarted').find((t) => t > 0 && !done.has(t));
      return open !== undefined && { trial: open };
    }, 180_000, 'a trial after the first to be running');
    await kill('training');
    const atKill = await rig.events.readStream(stream);
    expect(trials(atKill, 'TrialCompleted')).not.toContain(held.trial);
    expect(atKill.map((e) => e.type)).not.toContain('TrainingRunCompleted');

    rig.figures.trainingRestartMs = await restart('training');
    const t0 = performance.now();
    const run = await eventually(async () => {
      const r = (await rig.platform.call('training', 'GET', `/runs/${runId}`)).body as { status: string; error?: string };
      return r.status !== 'Running' && r;
    }, 180_000, 'the resumed run to end');
    rig.figures.trainingResumedRunMs = since(t0);
    expect(run.error).toBeUndefined();
    expect(run.status).toBe('Completed');

    const registered = await rig.find(streams.model('penguins'), 'ModelVersionRegistered');
    expect(registered.data).toMatchObject({ version: 1, runId });
    const all = await log();
    expect(logProblems(all)).toEqual(NO_PROBLEMS);
    const evts = all.filter((e) => e.stream === stream);
    expect(trials(evts, 'TrialCompleted').sort()).toEqual([0, 1, 2, 3]);
    expect(evts.filter((e) => e.type === 'TrainingRunCompleted' || e.type === 'TrainingRunFailed').map((e) => e.type)).toEqual(['TrainingRunCompleted']);
    expect(ofType(all, streams.model('penguins'), 'ModelVersionRegistered')).toHaveLength(1);
  });

  it('registry killed mid-burst of commands: every accepted command is in the log once, the rest retry cleanly', async () => {
    const N = 40;
    const commands = Array.from({ length: N }, (_, i) =>
      i % 2 === 0
        ? { kind: 'create' as const, name: `burst-${i}`, send: () => rig.platform.call('registry', 'POST', '/models', { name: `burst-${i}` }) }
        : { kind: 'tag' as const, name: 'penguins', tag: `k${i}`, send: () => rig.platform.call('registry', 'POST', '/models/penguins/tags', { set: { [`k${i}`]: 'v' } }) },
    );
    const outcome: (number | 'error')[] = new Array(N);
    let answered = 0;
    let next = 0;
    let killed: Promise<unknown> | undefined;
    const worker = async () => {
      while (next < N) {
        const i = next++;
        outcome[i] = await commands[i].send().then((r) => r.status, () => 'error' as const);
        if (++answered === 12) killed = kill('registry');
      }
    };
    await Promise.all(Array.from({ length: 4 }, worker));
    await killed;
    const accepted = commands.filter((_, i) => typeof outcome[i] === 'number' && (outcome[i] as number) < 300);
    const refused = outcome.filter((o) => o === 'error').length;
    rig.figures.registryBurst = { commands: N, accepted: accepted.length, connectionErrors: refused, other: outcome.filter((o) => typeof o === 'number' && o >= 300) };
    expect(accepted.length).toBeGreaterThanOrEqual(12);
    expect(refused).toBeGreaterThan(0); // the kill landed mid-burst

    rig.figures.registryRestartMs = await restart('registry');
    // Every accepted command is in the log exactly once.
    let all = await log();
    for (const c of accepted) {
      if (c.kind === 'create') expect(ofType(all, streams.model(c.name), 'RegisteredModelCreated')).toHaveLength(1);
      else expect(ofType(all, streams.model('penguins'), 'RegisteredModelTagged').filter((e) => JSON.stringify(e.data).includes(`"${c.tag}"`))).toHaveLength(1);
    }
    // The others are sent again: each now succeeds, or is refused as already done (its event was stored before the kill).
    for (let i = 0; i < N; i++) {
      if (outcome[i] !== 'error') continue;
      const again = await commands[i].send();
      expect([200, 201, 409]).toContain(again.status);
    }
    all = await log();
    expect(logProblems(all)).toEqual(NO_PROBLEMS);
    for (const c of commands) {
      if (c.kind === 'create') expect(ofType(all, streams.model(c.name), 'RegisteredModelCreated')).toHaveLength(1);
    }
    const model = (await rig.platform.call('registry', 'GET', '/models/penguins')).body as { tags: Record<string, string> };
    expect(Object.keys(model.tags).filter((k) => /^k\d+$/.test(k)).sort()).toEqual(commands.filter((c) => c.kind === 'tag').map((c) => (c as { tag: string }).tag).sort());
    // Monitoring's process manager made one monitor per created model, none twice.
    await eventually(async () => ofType(await log(), streams.monitor('burst-0'), 'MonitorCreated').length === 1, 60_000, 'the monitors of the burst');
    const monitors = (await log()).filter((e) => e.type === 'MonitorCreated').map((e) => e.stream);
    expect(new Set(monitors).size).toBe(monitors.length);
  });

  it('monitoring killed mid-window loses no telemetry: the windows close at the same rows as without the kill', async () => {
    expect((await rig.platform.call('registry', 'PUT', '/models/penguins/aliases/production', { version: 1, reason: 'faults' })).status).toBe(200);
    rig.predictKey = (await rig.platform.call('registry', 'POST', '/auth/keys', { name: 'faults-predict', scopes: ['predict'] })).body.token;
    await eventually(async () => (await rig.platform.call('serving', 'GET', '/v2/models/penguins/ready', undefined, { key: rig.predictKey })).status === 200, 60_000, 'penguins served');
    const reports = async () => ofType(await log(), streams.monitor('penguins'), 'DriftReportComputed').map((e) => (e.data as EventData<'DriftReportComputed'>).window);

    // 150 rows into the first 200-row window, all consumed; then the kill, and 150 more while monitoring is down.
    for (let i = 0; i < 3; i++) expect((await rig.predict(50)).status).toBe(200);
    await eventually(telemetryConsumed, 60_000, 'monitoring to consume the first 150 rows');
    expect(await reports()).toEqual([]);
    await kill('monitoring');
    for (let i = 0; i < 3; i++) expect((await rig.predict(50)).status).toBe(200);

    rig.figures.monitoringRestartMs = await restart('monitoring');
    const t0 = performance.now();
    const [first] = await eventually(async () => {
      const r = await reports();
      return r.length > 0 && r;
    }, 60_000, 'the first drift report');
    rig.figures.monitoringFirstReportAfterRestartMs = since(t0);
    expect(first.rows).toBe(WINDOW);
    // 100 rows are in the open window: 100 more close it.
    await eventually(telemetryConsumed, 60_000, 'monitoring to consume the rows sent while it was down');
    expect(await reports()).toHaveLength(1);
    for (let i = 0; i < 2; i++) expect((await rig.predict(50)).status).toBe(200);
    const windows = await eventually(async () => {
      const r = await reports();
      return r.length === 2 && r;
    }, 60_000, 'the second drift report');
    expect(windows.map((w) => w.rows)).toEqual([WINDOW, WINDOW]);
    expect(new Set(windows.map((w) => w.id)).size).toBe(2);
    expect(logProblems(await log())).toEqual(NO_PROBLEMS);
  });

  it('serving killed under load answers again from the log after a restart; no deployment event lost or doubled', async () => {
    /** `start`: when the request was sent; `at`: when its answer (or failure) came. */
    const statuses: { start: number; at: number; status: number | 'error'; code?: string; retryAfter?: string | null }[] = [];
    let stop = false;
    const load = async () => {
      while (!stop) {
        const start = performance.now();
        const answer = await rig.predict(5).then(
          (r) => ({ status: r.status, retryAfter: r.headers.get('retry-after'), code: (r.body as { code?: string } | undefined)?.code }),
          () => ({ status: 'error' as const }),
        );
        statuses.push({ start, at: performance.now(), ...answer });
        if (answer.status !== 200) await new Promise((r) => setTimeout(r, 50));
      }
    };
    const loops = Array.from({ length: 4 }, load);
    await eventually(async () => statuses.filter((s) => s.status === 200).length >= 40, 60_000, 'predictions flowing');
    const t0 = performance.now();
    await kill('serving');
    rig.figures.servingRestartMs = await restart('serving', { MLP_SERVING_GRPC_PORT: '-1' });
    const sentAfterKill = () => statuses.filter((s) => s.start > t0);
    await eventually(async () => sentAfterKill().some((s) => s.status === 200), 60_000, 'a prediction answered after the restart');
    const firstOkAt = sentAfterKill().find((s) => s.status === 200)!.at;
    rig.figures.servingKillToFirstPredictionMs = Math.round(firstOkAt - t0);
    const okAfter = sentAfterKill().filter((s) => s.status === 200).length;
    await eventually(async () => sentAfterKill().filter((s) => s.status === 200).length >= okAfter + 40, 60_000, 'predictions flowing again');
    stop = true;
    await Promise.all(loops);
    // Once it answers again, it keeps answering: no failure for a request sent after the first success.
    expect(statuses.filter((s) => s.start > firstOkAt && s.status !== 200)).toEqual([]);
    // Failures are refused connections while it is down, and 503 NOT_READY / MODEL_LOADING with Retry-After until the model is loaded from the log; never a 404 or another 5xx.
    const notReady = statuses.filter((s) => s.status === 503);
    expect(statuses.filter((s) => s.status !== 200 && s.status !== 'error' && s.status !== 503)).toEqual([]);
    expect(notReady.filter((s) => !['NOT_READY', 'MODEL_LOADING'].includes(s.code ?? '') || !s.retryAfter)).toEqual([]);
    expect(statuses.filter((s) => s.status !== 200 && s.at < t0)).toEqual([]);
    rig.figures.servingNotReady503 = notReady.length;
    rig.figures.servingLoad = { requests: statuses.length, ok: statuses.filter((s) => s.status === 200).length, refusedWhileDown: statuses.filter((s) => s.status === 'error').length };

    const all = await log();
    expect(logProblems(all)).toEqual(NO_PROBLEMS);
    // The restart loaded the version once more from the alias in the log; the alias was assigned once.
    expect(ofType(all, streams.serving('penguins'), 'ModelLoaded').map((e) => (e.data as EventData<'ModelLoaded'>).version)).toEqual([1, 1]);
    expect(ofType(all, streams.model('penguins'), 'ModelAliasAssigned')).toHaveLength(1);
    // Telemetry: what the killed process still held in its buffer (flushed every 250 ms) is lost; nothing is doubled.
    const nc = await connect({ servers: rig.platform.nats.url });
    const info = await (await nc.jetstreamManager()).streams.info(telemetryStream.stream, { subjects_filter: 'mlp.tel.predictions.penguins' });
    await nc.close();
    const predicted = 400 + statuses.filter((s) => s.status === 200).length * 5;
    const stored = info.state.subjects?.['mlp.tel.predictions.penguins'] ?? 0;
    rig.figures.servingTelemetry = { predictedRows: predicted, storedRows: stored, lostRows: predicted - stored };
    expect(stored).toBeLessThanOrEqual(predicted);
  });

  it("every service's read models equal a rebuild from the log (clean restart; projections verify where available)", async () => {
    const before = Object.fromEntries(await Promise.all(serviceNames.map(async (s) => [s, await snapshot(rig.platform, s, READS[s])] as const)));
    const verified: Record<string, unknown> = {};
    for (const s of serviceNames) {
      const checks = await verifyProjections(rig.platform, s);
      verified[s] = checks?.map((c) => c.name) ?? 'no /admin/projections/verify';
      if (checks) expect(checks.filter((c) => !c.equal)).toEqual([]);
    }
    rig.figures.projectionsVerify = verified;
    // Three at a time: six Node processes starting at once on two busy cores can take minutes.
    for (const group of [serviceNames.slice(0, 3), serviceNames.slice(3)]) {
      await Promise.all(group.map((s) => rig.platform.processes[s].kill('SIGTERM')));
      await rig.startServices(group);
    }
    await eventually(async () => (await rig.platform.call('serving', 'GET', '/v2/models/penguins/ready', undefined, { key: rig.predictKey })).status === 200, 60_000, 'penguins served again');
    for (const s of serviceNames) {
      expect({ service: s, reads: await snapshot(rig.platform, s, READS[s]) }).toEqual({ service: s, reads: before[s] });
    }
    const all = await log();
    expect(logProblems(all)).toEqual(NO_PROBLEMS);
    rig.figures.events = { total: all.length, streams: new Set(all.map((e) => e.stream)).size };
  });
});
