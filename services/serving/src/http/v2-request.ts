import { invalidInput } from '../inference/input-schema';
import { flattenData, type DecodedTensor } from '../inference/v2-codec';

/** The JSON body of an infer request: `{id?, parameters?, inputs: [{name, shape, datatype, data}], outputs?: [{name}]}`. */
export function parseInferRequest(body: unknown): { id?: string; inputs: DecodedTensor[]; outputs?: string[]; timeoutMs?: number } {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw invalidInput([{ path: '', message: 'the body must be a JSON object {inputs: [...]}' }]);
  const b = body as { id?: unknown; inputs?: unknown; outputs?: unknown; parameters?: unknown };
  if (!Array.isArray(b.inputs) || b.inputs.length === 0) throw invalidInput([{ path: 'inputs', message: 'an array of at least one tensor {name, shape, datatype, data} is needed' }]);
  const inputs = b.inputs.map((t: unknown, i: number): DecodedTensor => {
    if (t === null || typeof t !== 'object') throw invalidInput([{ path: `inputs[${i}]`, message: 'must be a tensor {name, shape, datatype, data}' }]);
    const x = t as { name?: unknown; shape?: unknown; datatype?: unknown; data?: unknown };
    const data = flattenData(x.data);
    if (!data) throw invalidInput([{ path: `inputs[${i}].data`, message: 'must be an array (flat row-major, or nested)' }]);
    return { name: x.name as string, shape: x.shape as number[], datatype: x.datatype as string, data };
  });
  let outputs: string[] | undefined;
  if (b.outputs !== undefined) {
    if (!Array.isArray(b.outputs) || b.outputs.some((o) => typeof (o as { name?: unknown })?.name !== 'string')) {
      throw invalidInput([{ path: 'outputs', message: 'an array of {name} is needed' }]);
    }
    outputs = b.outputs.map((o) => (o as { name: string }).name);
  }
  const params = (b.parameters ?? {}) as { timeout_ms?: unknown };
  const timeoutMs = typeof params.timeout_ms === 'number' && params.timeout_ms > 0 ? params.timeout_ms : undefined;
  return { ...(typeof b.id === 'string' ? { id: b.id } : {}), inputs, ...(outputs ? { outputs } : {}), ...(timeoutMs ? { timeoutMs } : {}) };
}
