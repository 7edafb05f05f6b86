import { streams, subjects, telemetryStream, type RegisteredModelView } from '@mlp/contracts';
import { MlpClient } from '@mlp/messaging';
import { eventually, ingestPenguins, penguinsSpec } from '@mlp/testing';
import { connect } from 'nats';
import { FaultRig, logProblems, NO_PROBLEMS, ofType, readLog, since } from './fault-checks';

/** Longer than the NATS client's default reconnect budget (10 attempts, 2 s apart): a service must keep trying on its own. */
const OUTAGE_MS = 25_000;

/**
 * nats-server restarted under load (same port and store dir) with five
 * services as their own processes: serving keeps answering from the models
 * it holds while the broker is down, the services reconnect with no operator
 * action, commands accepted before the outage are in the log afterwards, and
 * the process managers catch up: a run requested just before the outage
 * finishes and is registered, a model created after it gets its monitor.
 */
describe('faults: nats-server restart under load', () => {
  jest.setTimeout(300_000);
  const rig = new FaultRig(23, 180_000);

  beforeAll(async () => {
    // One after the other: several Node processes starting at once on two busy cores can outlast the readiness timeout.
    const one = (['ingestion', 'training', 'registry', 'serving', 'monitoring'] as const).map((s) => [s]);
    await rig.start({ prefix: 'e2e-nats-restart', env: { MLP_TRAINING_WORKERS: '1', MLP_TRIAL_ACK_WAIT_MS: '3000' } }, one);
  });

  afterAll(() => rig.stop('nats restart figures'));

  it('serves through the outage, reconnects on its own, keeps accepted commands, and the process managers catch up', async () => {
    await ingestPenguins(rig.platform.url('ingestion', ''), { headers: { 'x-api-key': rig.platform.adminKey } });
    const first = (await rig.platform.call('training', 'POST', '/runs', penguinsSpec({ seed: 3 }), { contentType: 'text/yaml' })).body.runId as string;
    expect((await rig.find(streams.model('penguins'), 'ModelVersionRegistered')).data).toMatchObject({ version: 1, runId: first });
    expect((await rig.platform.call('registry', 'PUT', '/models/penguins/aliases/production', { version: 1, reason: 'faults' })).status).toBe(200);
    rig.predictKey = (await rig.platform.call('registry', 'POST', '/auth/keys', { name: 'faults-predict', scopes: ['predict'] })).body.token;
    await eventually(async () => (await rig.platform.call('serving', 'GET', '/v2/models/penguins/ready', undefined, { key: rig.predictKey })).status === 200, 60_000, 'penguins served');

    // Load: predictions and registry commands, each outcome kept.
    const predictions: { at: number; status: number | 'error'; cause?: string }[] = [];
    const commands: { name: string; at: number; status: number | 'error' }[] = [];
    let stop = false;
    let seq = 0;
    const predictLoop = async () => {
      while (!stop) {
        const at = performance.now();
        // A failed fetch keeps its cause (ECONNRESET, a timeout...), so a failure says what broke.
        predictions.push(await rig.predict(5).then((r) => ({ at, status: r.status }), (err: Error & { cause?: { code?: string; message?: string } }) => ({ at, status: 'error' as const, cause: `${err.message}: ${err.cause?.code ?? err.cause?.message ?? ''}` })));
      }
    };
    const commandLoop = async () => {
      while (!stop) {
        const name = `load-${seq++}`;
        const status = await rig.platform.call('registry', 'POST', '/models', { name }).then((r) => r.status, () => 'error' as const);
        commands.push({ name, at: performance.now(), status });
        if (status !== 201) await new Promise((r) => setTimeout(r, 200));
      }
    };
    const loops = [predictLoop(), predictLoop(), commandLoop()];
    await eventually(async () => commands.filter((c) => c.status === 201).length >= 10, 60_000, 'commands flowing');
    // A run requested just before the outage: it has to finish (and be registered) across it.
    const requested = await rig.platform.call('training', 'POST', '/runs', penguinsSpec({ seed: 4 }), { contentType: 'text/yaml' });
    expect(requested.status).toBe(202);
    const runId = requested.body.runId as string;

    // Scraping resets prom-client's event-loop lag histogram: the next scrape's max covers the outage and the reconnect.
    const lagMax = async () => Number(/^nodejs_eventloop_lag_max_seconds(?:\{[^}]*\})? (\S+)/m.exec((await rig.platform.call('serving', 'GET', '/metrics')).body as string)?.[1]);
    await lagMax();
    let down = 0;
    let up = 0;
    await rig.platform.nats.restart({
      whileDown: async () => {
        down = performance.now();
        await new Promise((r) => setTimeout(r, OUTAGE_MS));
      },
    });
    up = performance.now();
    // Reconnected with no operator action: a command is accepted again (HTTP → JetStream append), and a query crosses the Nest NATS transport.
    const client = new MlpClient({ MLP_TRANSPORT: 'nats', NATS_URL: rig.platform.nats.url });
    try {
      await eventually(async () => commands.some((c) => c.at > up && c.status === 201), 120_000, 'a registry command accepted after the restart');
      rig.figures.commandAcceptedAfterRestartMs = Math.round(commands.find((c) => c.at > up && c.status === 201)!.at - up);
      await eventually(async () => (await client.send<RegisteredModelView>(subjects.qry.registry.getModel, { name: 'penguins' })).name === 'penguins', 120_000, 'a registry query over NATS');
      rig.figures.natsQueryAnsweredAfterRestartMs = since(up);
    } finally {
      await client.close();
    }
    const predictedAfter = predictions.filter((p) => p.at > up).length;
    await eventually(async () => predictions.filter((p) => p.at > up).length >= predictedAfter + 20, 60_000, 'predictions after the restart');
    stop = true;
    await Promise.all(loops);
    rig.figures.servingEventLoopLagMaxMs = Math.round((await lagMax()) * 1000);

    // Serving answered from the model it holds all along: every prediction 200, during the outage too.
    const during = predictions.filter((p) => p.at > down && p.at < up);
    expect(during.length).toBeGreaterThan(10);
    // Times relative to the broker going down (ms), so a failure shows when in the outage it happened.
    expect(predictions.filter((p) => p.status !== 200).map((p) => ({ ...p, at: Math.round(p.at - down), outageMs: Math.round(up - down) }))).toEqual([]);
    rig.figures.outage = { ms: Math.round(up - down), predictionsDuringOutage: during.length, commandsDuringOutage: commands.filter((c) => c.at > down && c.at < up).map((c) => c.status).join(',') };

    // Every command answered 201 is in the log, once.
    const all = await readLog(rig.events);
    expect(logProblems(all)).toEqual(NO_PROBLEMS);
    const accepted = commands.filter((c) => c.status === 201);
    rig.figures.commands = { accepted: accepted.length, failed: commands.length - accepted.length };
    expect(accepted.filter((c) => ofType(all, streams.model(c.name), 'RegisteredModelCreated').length !== 1)).toEqual([]);

    // The process managers catch up: the run requested before the outage ends and is registered; the monitors are made.
    const ended = await eventually(async () => (await rig.events.readStream(streams.run(runId))).find((e) => e.type === 'TrainingRunCompleted' || e.type === 'TrainingRunFailed'), 180_000, 'the run requested before the outage to end');
    expect(ended.type).toBe('TrainingRunCompleted');
    await eventually(async () => (await rig.events.readStream(streams.model('penguins'))).find((e) => e.type === 'ModelVersionRegistered' && (e.data as { runId: string }).runId === runId), 120_000, 'version 2 registered');
    rig.figures.runRegisteredAfterRestartMs = since(up);
    const last = accepted.at(-1)!;
    await rig.find(streams.monitor(last.name), 'MonitorCreated', 120_000);
    const monitors = (await readLog(rig.events)).filter((e) => e.type === 'MonitorCreated').map((e) => e.stream);
    expect(new Set(monitors).size).toBe(monitors.length);
    expect(accepted.filter((c) => !monitors.includes(streams.monitor(c.name)))).toEqual([]);

    // Telemetry: rows kept through the outage are published once the broker is back (deduplicated by msgID);
    // past the backlog bound the oldest are dropped and counted. Every predicted row ends up stored or counted.
    const predictedRows = predictions.length * 5;
    const nc = await connect({ servers: rig.platform.nats.url });
    try {
      const jsm = await nc.jetstreamManager();
      const accounted = async () => {
        const info = await jsm.streams.info(telemetryStream.stream, { subjects_filter: 'mlp.tel.predictions.penguins' });
        const metrics = (await rig.platform.call('serving', 'GET', '/metrics')).body as string;
        return {
          predictedRows,
          storedRows: info.state.subjects?.['mlp.tel.predictions.penguins'] ?? 0,
          droppedCounter: Number(/^serving_telemetry_dropped_total\S* (\d+)/m.exec(metrics)?.[1] ?? NaN),
        };
      };
      rig.figures.telemetry = await eventually(async () => {
        const t = await accounted();
        rig.figures.telemetry = t;
        return t.storedRows + t.droppedCounter >= predictedRows && t;
      }, 120_000, 'every predicted row stored or counted as dropped');
      // Stored once at most (msgID dedup). A row dropped from the backlog may still have landed (its first
      // publish stored, the ack lost), so stored + dropped can exceed the predicted rows, never fall short.
      expect((await accounted()).storedRows).toBeLessThanOrEqual(predictedRows);
    } finally {
      await nc.close();
    }
  });
});
