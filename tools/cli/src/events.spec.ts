import { UsageError } from './api';
import { matchesFilter, parseEventsArgs, parseSse, type EventRow } from './commands/events';

describe('mlp events helpers', () => {
  it('splits a server-sent-events stream into messages, whatever the chunk boundaries', () => {
    const stream = ': from 4\n\nid: 5\nevent: mlp\ndata: {"position":5}\n\n: keep-alive\n\nid: 6\r\nevent: mlp\r\ndata: line one\r\ndata: line two\r\n\r\nid: 7\nevent: mlp\ndata: {"posi';
    // Fed one character at a time, the same messages come out as when fed whole.
    let rest = '';
    const seen: ReturnType<typeof parseSse>['messages'] = [];
    for (const ch of stream) {
      const out = parseSse(rest + ch);
      seen.push(...out.messages);
      rest = out.rest;
    }
    expect(seen).toEqual([
      { id: '5', event: 'mlp', data: '{"position":5}' },
      { id: '6', event: 'mlp', data: 'line one\nline two' },
    ]);
    expect(rest).toBe('id: 7\nevent: mlp\ndata: {"posi');
    expect(parseSse(stream).messages).toEqual(seen);
  });

  it('parses the flags and refuses unknown or incomplete ones', () => {
    expect(parseEventsArgs(['--stream', 'model-churn', '--type', 'RegisteredModelCreated', '--correlation', 'c1', '--limit', '5', '--follow'])).toEqual({
      stream: 'model-churn',
      type: 'RegisteredModelCreated',
      correlation: 'c1',
      limit: 5,
      follow: true,
    });
    expect(() => parseEventsArgs(['--stream'])).toThrow(UsageError);
    expect(() => parseEventsArgs(['--limit', '0'])).toThrow(/--limit: expected a positive integer/);
    expect(() => parseEventsArgs(['--since', 'x'])).toThrow(UsageError);
  });

  it('filters live events as GET /events does', () => {
    const e = { stream: 'model-a', type: 'RegisteredModelCreated', correlationId: 'c1' } as EventRow;
    expect(matchesFilter({})(e)).toBe(true);
    expect(matchesFilter({ stream: 'model-a', type: 'RegisteredModelCreated', correlation: 'c1' })(e)).toBe(true);
    expect(matchesFilter({ stream: 'model-b' })(e)).toBe(false);
    expect(matchesFilter({ type: 'RunStarted' })(e)).toBe(false);
    expect(matchesFilter({ correlation: 'c2' })(e)).toBe(false);
  });
});
