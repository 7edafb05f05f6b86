import { parentPort, workerData } from 'node:worker_threads';
import { SqliteTelemetrySink } from './telemetry-sink';

/**
 * The SQLite telemetry sink on its own thread (see WorkerTelemetrySink):
 * turning entries into rows, JSON-encoding them and inserting them cost the
 * serving thread nothing. One message in, one answer out, in order.
 */
const port = parentPort!;
const sink = new SqliteTelemetrySink((workerData as { file: string }).file);

port.on('message', (m: { id: number; op: 'predictions' | 'feedback' | 'model' | 'close'; arg?: never }) => {
  const run = async (): Promise<unknown> => {
    switch (m.op) {
      case 'predictions':
        return sink.writePacked(m.arg!);
      case 'feedback':
        return sink.writeFeedback(m.arg!);
      case 'model':
        return sink.modelOfRequest(m.arg!);
      case 'close':
        return sink.close();
    }
  };
  run().then(
    (result) => port.postMessage({ id: m.id, result }),
    (err: unknown) => port.postMessage({ id: m.id, error: err instanceof Error ? err.message : String(err) }),
  );
});
port.postMessage({ id: 0, result: 'ready' });
