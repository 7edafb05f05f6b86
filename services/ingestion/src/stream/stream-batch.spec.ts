import { messageLines, StreamBatch } from './stream-batch';

const lines = (data: string | Buffer) => messageLines(typeof data === 'string' ? Buffer.from(data) : data).map((l) => l.toString('utf8'));

describe('messageLines', () => {
  it('one object → one row, kept byte for byte', () => {
    expect(lines('{"id":12345678901234567890,"x":"a"}')).toEqual(['{"id":12345678901234567890,"x":"a"}']);
  });

  it('a pretty-printed object becomes one line', () => {
    expect(lines('{\n  "id": 1,\n  "x": "a"\n}')).toEqual(['{"id":1,"x":"a"}']);
  });

  it('an array → one row per item (an empty array → none)', () => {
    expect(lines('[{"id":1},{"id":2}, 3]')).toEqual(['{"id":1}', '{"id":2}', '3']);
    expect(lines('[]')).toEqual([]);
  });

  it('never drops a message: invalid JSON, scalars and empty bodies are rows to quarantine', () => {
    expect(lines('{"id": 1,')).toEqual(['{"id": 1,']);
    expect(lines('not json\nsecond line')).toEqual(['"not json\\nsecond line"']);
    expect(lines('42')).toEqual(['42']);
    expect(lines('')).toEqual(['""']);
    expect(lines('  ')).toEqual(['""']);
    expect([...messageLines(Buffer.from([0x7b, 0xff, 0x7d]))[0]]).toEqual([0x7b, 0xff, 0x7d]);
  });
});

describe('StreamBatch', () => {
  const row = (n: number) => () => Array.from({ length: n }, (_, i) => Buffer.from(`{"i":${i}}`));

  it('counts rows, ignores redeliveries of held messages but acks their latest delivery', () => {
    const batch = new StreamBatch<string>();
    expect(batch.add(5, 'm5', row(2), 1000)).toBe(true);
    expect(batch.add(7, 'm7', row(1), 2000)).toBe(true);
    expect(batch.add(5, 'm5-again', row(2), 3000)).toBe(false);
    expect(batch.messages).toBe(2);
    expect(batch.rows).toBe(3);
    expect(batch.firstAt).toBe(1000);
    expect(batch.deliveries().sort()).toEqual(['m5-again', 'm7']);
  });

  it('plans in stream order, skipping what a stored version already covers', () => {
    const batch = new StreamBatch<string>();
    // After a restart, new messages can arrive before redeliveries of older ones.
    batch.add(12, 'm12', row(1));
    batch.add(13, 'm13', row(3));
    batch.add(9, 'm9', row(1));
    batch.add(10, 'm10', row(1));
    expect(batch.plan(0)).toMatchObject({ rows: 6, range: { first: 9, last: 13 } });
    expect(batch.plan(0).keep.map((h) => h.seq)).toEqual([9, 10, 12, 13]);

    expect(batch.dropUpTo(10).sort()).toEqual(['m10', 'm9']);
    expect(batch.messages).toBe(2);
    expect(batch.rows).toBe(4);
    expect(batch.plan(10)).toMatchObject({ rows: 4, range: { first: 12, last: 13 } });
    expect(batch.dropUpTo(13)).toHaveLength(2);
    expect(batch.plan(13)).toMatchObject({ rows: 0, range: null, keep: [] });
    expect(batch.firstAt).toBeNull();
  });
});
