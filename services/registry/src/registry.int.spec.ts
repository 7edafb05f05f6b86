import { streams, toNewEvent, validateEventData, type AliasHistoryEntry, type ModelVersionView, type RecordedEvent } from '@mlp/contracts';
import { startInProcessServices, type InProcessServices } from '@mlp/service-kit/testing';
import { registryService } from './index';
import { RegistryProjection } from './model/registry.projection';
import { RegistryService } from './model/registry.service';

const hex = (c: string) => c.repeat(64);
const meta = { now: '2026-01-01T00:00:00.000Z', correlationId: 'seed', causationId: null, actor: 'seed' };

/** Seeds a model with `n` versions through the event store (the versions' runs are not needed for alias commands). */
async function seed(p: InProcessServices, name: string, n: number): Promise<void> {
  const events = [toNewEvent({ type: 'RegisteredModelCreated', data: { name } }, meta, { codeVersion: 'test' })];
  for (let v = 1; v <= n; v++) {
    events.push(
      toNewEvent(
        {
          type: 'ModelVersionRegistered',
          data: validateEventData('ModelVersionRegistered', {
            name,
            version: v,
            runId: `run-${name}-${v}`,
            artifacts: { model: `sha256/${hex('a')}` },
            metrics: { accuracy: 0.8 + v / 100 },
            params: { lr: v / 100 },
            tags: { team: v % 2 ? 'odd' : 'even' },
          }),
        },
        meta,
        { codeVersion: 'test' },
      ) as never,
    );
  }
  await p.store.appendToStream(streams.model(name), events, { expectedRevision: 'no_stream' });
}

describe('registry over HTTP (in process, SQLite event store)', () => {
  jest.setTimeout(60_000);
  let p: InProcessServices;
  let url: string;
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
  };
  const assignedEvents = async (name: string) =>
    (await p.store.readStream(streams.model(name))).filter((e) => e.type === 'ModelAliasAssigned' || e.type === 'ModelAliasRemoved');

  beforeAll(async () => {
    p = await startInProcessServices([registryService], { prefix: 'registry', processEnv: () => ({ MLP_REGISTRY_AUTO_REGISTER: 'off' }) });
    url = p.services[0].url;
    await seed(p, 'churn', 3);
    await seed(p, 'fraud', 2);
  });
  afterAll(async () => p?.close());

  it('100 concurrent alias moves at one expected revision: exactly one winner, 99 clear 412 conflicts, no lost update', async () => {
    const { body: model } = await call('GET', '/models/churn');
    const revision = model.revision as number;
    const replies = await Promise.all(
      Array.from({ length: 100 }, (_, i) => call('PUT', '/models/churn/aliases/production', { version: (i % 3) + 1, reason: `move ${i}`, expectedRevision: revision })),
    );
    const winners = replies.filter((r) => r.status === 200);
    const losers = replies.filter((r) => r.status !== 200);
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(99);
    for (const l of losers) {
      expect(l.status).toBe(412);
      expect(l.body).toMatchObject({ code: 'WRONG_EXPECTED_REVISION', name: 'ConcurrencyError', details: { name: 'churn', expectedRevision: revision } });
      expect(l.body.message).toMatch(/changed while this command was being decided.*Read the model again and retry/);
    }
    const events = await assignedEvents('churn');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ revision: revision + 1, data: { alias: 'production', version: winners[0].body.version, previousVersion: null, kind: 'assigned' } });
    expect(winners[0].body).toMatchObject({ name: 'churn', alias: 'production', kind: 'assigned', revision: revision + 1 });
  });

  it('100 concurrent moves without an expected revision: each is serialized or refused, and the history is one unbroken chain', async () => {
    const replies = await Promise.all(
      Array.from({ length: 100 }, (_, i) => call('PUT', '/models/churn/aliases/staging', { version: (i % 3) + 1, reason: `stage ${i}` }, { 'x-actor': `user${i}` })),
    );
    for (const r of replies) expect([200, 412]).toContain(r.status);
    const changed = replies.filter((r) => r.status === 200 && r.body.kind !== 'unchanged');
    const events = (await assignedEvents('churn')).filter((e) => (e.data as { alias: string }).alias === 'staging');
    // Every reported change is exactly one stored event, and each event moved from the version the one before left.
    expect(events).toHaveLength(changed.length);
    expect(events.length).toBeGreaterThan(0);
    let holder: number | null = null;
    for (const e of events) {
      const d = e.data as { version: number; previousVersion: number | null; actor: string; reason: string };
      expect(d.previousVersion).toBe(holder);
      holder = d.version;
    }
    expect(new Set(events.map((e) => (e.data as { actor: string }).actor)).size).toBe(events.length);
    const history = (await call('GET', '/models/churn/aliases/staging/history')).body as { current: number; history: AliasHistoryEntry[] };
    expect(history.current).toBe(holder);
    expect(history.history).toHaveLength(events.length);
    expect(history.history.filter((h) => h.to === null)).toHaveLength(1);
    for (let i = 1; i < history.history.length; i++) expect(history.history[i - 1]).toMatchObject({ to: history.history[i].from, ended: { kind: 'moved', by: history.history[i].version } });
  });

  it('requires an approval by another actor for the aliases the policy names', async () => {
    expect((await call('PUT', '/models/fraud/policy', { registration: 'every-run', approvalRequiredFor: ['production'] })).body).toEqual({
      registration: 'every-run',
      approvalRequiredFor: ['production'],
      source: 'model',
    });
    const alice = { 'x-actor': 'alice' };
    const refused = await call('PUT', '/models/fraud/aliases/production', { version: 2, reason: 'launch' }, alice);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: 'APPROVAL_REQUIRED' });
    expect(refused.body.message).toMatch(/needs an approval of version 2 by an actor other than alice/);
    expect((await call('POST', '/models/fraud/versions/2/approvals', { alias: 'production', reason: 'I like it' }, alice)).status).toBe(201);
    expect((await call('PUT', '/models/fraud/aliases/production', { version: 2 }, alice)).body.message).toMatch(/the only approval is by alice, who is asking/);
    const approved = await call('POST', '/models/fraud/versions/2/approvals', { alias: 'production', reason: 'reviewed' }, { 'x-actor': 'bob' });
    expect(approved.body.approvals.map((a: { approvedBy: string }) => a.approvedBy)).toEqual(['alice', 'bob']);
    const ok = await call('PUT', '/models/fraud/aliases/production', { version: 2, reason: 'launch' }, alice);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ alias: 'production', version: 2, previousVersion: null, kind: 'assigned', actor: 'alice', reason: 'launch' });
    // staging is not in the policy.
    expect((await call('PUT', '/models/fraud/aliases/staging', { version: 1 }, alice)).status).toBe(200);
  });

  it('archived versions take no alias; a model with aliases cannot be deleted; rollback needs history', async () => {
    const archived = await call('POST', '/models/fraud/versions/1/archive', { reason: 'old' });
    expect(archived.status).toBe(409); // it holds staging
    expect(archived.body).toMatchObject({ code: 'VERSION_ALIASED' });
    expect((await call('DELETE', '/models/fraud/aliases/staging', { reason: 'cleanup' })).body).toMatchObject({ kind: 'removed', previousVersion: 1 });
    expect((await call('POST', '/models/fraud/versions/1/archive', { reason: 'old' })).body).toMatchObject({ status: 'archived' });
    const refused = await call('PUT', '/models/fraud/aliases/staging', { version: 1 });
    expect(refused).toMatchObject({ status: 409, body: { code: 'VERSION_ARCHIVED' } });

    const noHistory = await call('POST', '/models/fraud/aliases/production/rollback', { reason: 'bad' });
    expect(noHistory.status).toBe(409);
    expect(noHistory.body).toMatchObject({ code: 'NO_ALIAS_HISTORY' });
    expect(noHistory.body.message).toMatch(/only ever been held by version 2, so there is no previous version to go back to/);
    expect((await call('POST', '/models/fraud/aliases/canary/rollback', { reason: 'bad' })).body.message).toMatch(/has never been assigned/);

    const del = await call('DELETE', '/models/fraud', { reason: 'retire' });
    expect(del).toMatchObject({ status: 409, body: { code: 'MODEL_ALIASED' } });
    expect(del.body.message).toMatch(/production → v2/);
  });

  it('rolls back to the previous holder, recorded as a rollback with its reason and actor, visible in the history', async () => {
    const current = (await call('GET', '/models/churn/aliases')).body.aliases.production as number;
    const next = (current % 3) + 1;
    expect((await call('PUT', '/models/churn/aliases/production', { version: next, reason: 'new model' }, { 'x-actor': 'ana' })).status).toBe(200);
    const rolled = await call('POST', '/models/churn/aliases/production/rollback', { reason: 'error rate up' }, { 'x-actor': 'oncall' });
    expect(rolled.body).toMatchObject({ version: current, previousVersion: next, kind: 'rolled-back', reason: 'error rate up', actor: 'oncall' });
    const { body } = await call('GET', '/models/churn/aliases/production/history');
    expect(body.current).toBe(current);
    expect(body.history.map((h: AliasHistoryEntry) => [h.version, h.kind])).toEqual([
      [current, 'assigned'],
      [next, 'moved'],
      [current, 'rolled-back'],
    ]);
    expect(body.history[1]).toMatchObject({ reason: 'new model', actor: 'ana', ended: { kind: 'rolled-back', reason: 'error rate up', actor: 'oncall', by: current } });
    expect(body.history[2]).toMatchObject({ to: null, reason: 'error rate up', actor: 'oncall' });
    expect((await call('GET', '/models/churn/aliases/production')).body).toMatchObject({ version: current, aliases: expect.arrayContaining(['production']) });
  });

  it('answers every bad request with a field-level 400', async () => {
    const bad = await call('PUT', '/models/churn/aliases/production', { version: 'abc', extra: 1 });
    expect(bad.status).toBe(400);
    expect(bad.body.details.map((d: { path: string }) => d.path).sort()).toEqual(['', 'version']);
    expect((await call('PUT', '/models/churn/aliases/latest', { version: 1 })).body.details).toEqual([{ path: 'alias', message: expect.stringMatching(/reserved/) }]);
    expect((await call('PUT', '/models/fraud/policy', { registration: 'sometimes' })).body.details[0].path).toBe('registration');
    expect((await call('GET', '/models/churn/versions?metric=accuracy~1')).body.details[0].path).toBe('metric');
    expect((await call('GET', '/models/churn/versions/zero')).body.details[0].path).toBe('version');
    expect((await call('GET', '/models/nope')).status).toBe(404);
    expect((await call('GET', '/models/churn/versions/9')).body).toMatchObject({ code: 'VERSION_NOT_FOUND' });
    expect(JSON.stringify(bad.body)).not.toMatch(/at .*\.ts:\d+/);
  });

  it('searches versions by tag and metric threshold, and compares two versions', async () => {
    const found = (await call('GET', `/models/churn/versions?tag=team:odd&metric=${encodeURIComponent('accuracy>=0.815')}`)).body.versions as ModelVersionView[];
    expect(found.map((v) => v.version)).toEqual([3]);
    const across = (await call('GET', `/versions?metric=${encodeURIComponent('accuracy<0.815')}`)).body.versions as ModelVersionView[];
    expect(across.map((v) => `${v.name}@${v.version}`)).toEqual(['churn@1', 'fraud@1']);
    const cmp = (await call('GET', '/models/churn/compare?a=1&b=3')).body;
    expect(cmp.metrics).toEqual([{ metric: 'accuracy', a: 0.8 + 1 / 100, b: 0.8 + 3 / 100, delta: expect.closeTo(0.02, 10) }]);
    expect(cmp.params).toEqual([{ param: 'lr', a: 0.01, b: 0.03, same: false }]);
  });

  it('rebuilds the read models from an empty start to exactly the live state', async () => {
    const live = p.services[0].app.get(RegistryService, { strict: false }).projection.snapshot();
    const rebuilt = new RegistryProjection();
    let from = 1;
    for (;;) {
      const page: RecordedEvent[] = await p.store.readAll({ fromPosition: from, maxCount: 500 });
      if (page.length === 0) break;
      for (const e of page) if (e.stream.startsWith('model-') && rebuilt.canHandle(e)) rebuilt.handle(e);
      from = page[page.length - 1].position + 1;
    }
    expect(rebuilt.snapshot()).toEqual(live);
    expect(live.models.map((m) => m.name)).toEqual(['churn', 'fraud']);
  });
});
