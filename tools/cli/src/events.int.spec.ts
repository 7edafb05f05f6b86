import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { streams, toNewEvent } from '@mlp/contracts';
import { repoRoot } from '@mlp/testing';
import { mlp, startCliPlatform, type CliPlatform } from './cli-platform.fixture';

/** `mlp events` as a child process against the embedded platform's log (served by monitoring). */
describe('mlp events', () => {
  jest.setTimeout(120_000);
  let cli: CliPlatform;

  const append = async (name: string, correlationId: string, description = '') => {
    const store = cli.platform.services[0].runtime.eventStore;
    const event = toNewEvent(
      { type: 'RegisteredModelCreated', data: { name, description, tags: {} } },
      { now: '2026-03-01T10:00:00.000Z', correlationId, causationId: null, actor: 'events-spec' },
      { codeVersion: 'test' },
    );
    return store.appendToStream(streams.model(name), [event]);
  };

  beforeAll(async () => {
    cli = await startCliPlatform('events');
    await append('churn', 'corr-churn-0001');
    await append('fraud', 'corr-fraud-0002');
    await append('spam', 'corr-fraud-0002');
  });
  afterAll(() => cli?.close());

  it('prints the log as a table, filtered by stream, type and correlation, and as JSON lines', async () => {
    const all = await mlp(['events', '--type', 'RegisteredModelCreated'], cli.env);
    expect(all.stderr).toBe('');
    expect(all.status).toBe(0);
    const lines = all.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^\s*POSITION {2}TIME\s+TYPE\s+STREAM\s+CORRELATION$/);
    expect(lines.slice(1).map((l) => l.trim().split(/\s{2,}/).slice(1))).toEqual([
      ['2026-03-01 10:00:00Z', 'RegisteredModelCreated', streams.model('churn'), 'corr-chu'],
      ['2026-03-01 10:00:00Z', 'RegisteredModelCreated', streams.model('fraud'), 'corr-fra'],
      ['2026-03-01 10:00:00Z', 'RegisteredModelCreated', streams.model('spam'), 'corr-fra'],
    ]);

    const byStream = await mlp(['events', '--stream', streams.model('fraud'), '--json'], cli.env);
    const parsed = byStream.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(parsed).toHaveLength(1);
    expect(parsed[0]).toMatchObject({ type: 'RegisteredModelCreated', stream: streams.model('fraud'), correlationId: 'corr-fraud-0002', actor: 'events-spec', data: { name: 'fraud' } });

    const byCorrelation = await mlp(['events', '--correlation', 'corr-fraud-0002', '--type', 'RegisteredModelCreated', '--limit', '1', '--json'], cli.env);
    expect(byCorrelation.stdout.trimEnd().split('\n').map((l) => JSON.parse(l).stream)).toEqual([streams.model('spam')]);

    expect((await mlp(['events', '--correlation', 'nobody'], cli.env)).stdout).toBe('no events\n');
  });

  it('rejects bad arguments with a usage error and a bad type with the field named', async () => {
    const usage = await mlp(['events', '--limit', 'many'], cli.env);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/--limit: expected a positive integer/);
    const badType = await mlp(['events', '--type', 'not-pascal'], cli.env);
    expect(badType.status).toBe(1);
    expect(badType.stderr).toMatch(/type.*PascalCase/);
    expect(badType.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('--follow prints the tail, then each new matching event as it is appended, until interrupted', async () => {
    const before = await append('live-0', 'corr-live-0003');
    const child = spawn(process.execPath, [join(repoRoot, 'tools/cli/bin/mlp.js'), 'events', '--follow', '--correlation', 'corr-live-0003', '--type', 'RegisteredModelCreated'], {
      cwd: repoRoot,
      env: { ...process.env, ...cli.env },
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<void>((_, reject) => child.once('exit', (code) => reject(new Error(`mlp events --follow exited (${code}): ${stderr}`))));
    exited.catch(() => undefined);
    const lines = () => stdout.trimEnd().split('\n').filter(Boolean);
    const linesSeen = (n: number) =>
      Promise.race([
        exited,
        new Promise<void>((resolve) => {
          const onData = (c: Buffer) => {
            stdout += c.toString();
            if (lines().length >= n) {
              child.stdout.off('data', onData);
              resolve();
            }
          };
          child.stdout.on('data', onData);
        }),
      ]);
    // The header and the tail: the page has been read, so whatever follows comes through the live feed.
    await linesSeen(2);
    const first = await append('live-a', 'corr-live-0003');
    await append('live-b', 'corr-other-0004'); // another correlation: filtered out
    const second = await append('live-c', 'corr-live-0003');
    await linesSeen(4); // monitoring's reactions carry the same correlation; --type keeps the appended ones
    child.kill('SIGINT');
    const cells = lines().map((l) => l.trim().split(/\s{2,}/));
    expect(cells[0]).toEqual(['POSITION', 'TIME', 'TYPE', 'STREAM', 'CORRELATION']);
    expect(cells.slice(1).map((c) => [Number(c[0]), c[3], c[4]])).toEqual([
      [before.position, streams.model('live-0'), 'corr-liv'],
      [first.position, streams.model('live-a'), 'corr-liv'],
      [second.position, streams.model('live-c'), 'corr-liv'],
    ]);
    expect(stderr).toBe('');
  });
});
