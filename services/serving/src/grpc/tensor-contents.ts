import { v2ContentsField, type FieldIssue } from '@mlp/contracts';
import { invalidInput } from '../inference/input-schema';
import type { DecodedTensor, V2OutputTensor } from '../inference/v2-codec';
import type { InferTensorContents, ModelInferRequest } from './v2-proto';

/** Bytes per element of each fixed-size datatype in raw_input_contents. */
const WIDTH: Record<string, number> = { BOOL: 1, UINT8: 1, INT8: 1, UINT16: 2, INT16: 2, FP16: 2, UINT32: 4, INT32: 4, FP32: 4, UINT64: 8, INT64: 8, FP64: 8 };

/** The typed field of InferTensorContents that carries each datatype. */
const FIELD: Record<string, keyof InferTensorContents> = v2ContentsField;

/**
 * gRPC input tensors → the transport-neutral tensors the codec checks:
 * from `contents` (the datatype's field) or from `raw_input_contents`
 * (little-endian, row-major; BYTES as 4-byte length-prefixed elements; FP16
 * only raw). Mixing the two is refused, as the protocol says.
 */
export function decodeInputs(request: ModelInferRequest): DecodedTensor[] {
  const raw = request.raw_input_contents ?? [];
  const issues: FieldIssue[] = [];
  if (raw.length > 0) {
    if (raw.length !== request.inputs.length) issues.push({ path: 'raw_input_contents', message: `one entry per input is needed: ${request.inputs.length} inputs, ${raw.length} raw contents` });
    request.inputs.forEach((t, i) => {
      if (t.contents && FIELD[t.datatype] && (t.contents[FIELD[t.datatype]] as unknown[]).length > 0) issues.push({ path: `inputs[${i}].contents`, message: 'contents and raw_input_contents cannot be mixed' });
    });
    if (issues.length) throw invalidInput(issues);
    return request.inputs.map((t, i) => ({ name: t.name, shape: t.shape.map(Number), datatype: t.datatype, data: decodeRaw(t.datatype, raw[i], i) }));
  }
  return request.inputs.map((t, i) => {
    const field = FIELD[t.datatype];
    if (!field) {
      if (t.datatype === 'FP16') throw invalidInput([{ path: `inputs[${i}].datatype`, message: 'FP16 travels in raw_input_contents only' }]);
      return { name: t.name, shape: t.shape.map(Number), datatype: t.datatype, data: [] };
    }
    const values = (t.contents?.[field] ?? []) as unknown[];
    const data = field === 'bytes_contents' ? (values as Buffer[]).map((b) => Buffer.from(b).toString('utf8')) : values.map((v) => (typeof v === 'boolean' ? v : Number(v)));
    return { name: t.name, shape: t.shape.map(Number), datatype: t.datatype, data };
  });
}

function decodeRaw(datatype: string, buf: Buffer, i: number): unknown[] {
  if (datatype === 'BYTES') {
    const out: string[] = [];
    let o = 0;
    while (o < buf.length) {
      if (o + 4 > buf.length) throw invalidInput([{ path: `raw_input_contents[${i}]`, message: 'a BYTES element needs a 4-byte length prefix' }]);
      const len = buf.readUInt32LE(o);
      o += 4;
      if (o + len > buf.length) throw invalidInput([{ path: `raw_input_contents[${i}]`, message: `a BYTES element of ${len} bytes runs past the end` }]);
      out.push(buf.toString('utf8', o, o + len));
      o += len;
    }
    return out;
  }
  const width = WIDTH[datatype];
  if (!width) return [];
  if (buf.length % width !== 0) throw invalidInput([{ path: `raw_input_contents[${i}]`, message: `${buf.length} bytes is not a whole number of ${datatype} elements (${width} bytes each)` }]);
  const n = buf.length / width;
  const out = new Array<unknown>(n);
  for (let k = 0, o = 0; k < n; k++, o += width) {
    switch (datatype) {
      case 'BOOL':
        out[k] = buf[o] !== 0;
        break;
      case 'UINT8':
        out[k] = buf.readUInt8(o);
        break;
      case 'INT8':
        out[k] = buf.readInt8(o);
        break;
      case 'UINT16':
        out[k] = buf.readUInt16LE(o);
        break;
      case 'INT16':
        out[k] = buf.readInt16LE(o);
        break;
      case 'FP16':
        out[k] = halfToFloat(buf.readUInt16LE(o));
        break;
      case 'UINT32':
        out[k] = buf.readUInt32LE(o);
        break;
      case 'INT32':
        out[k] = buf.readInt32LE(o);
        break;
      case 'FP32':
        out[k] = buf.readFloatLE(o);
        break;
      case 'UINT64':
        out[k] = Number(buf.readBigUInt64LE(o));
        break;
      case 'INT64':
        out[k] = Number(buf.readBigInt64LE(o));
        break;
      case 'FP64':
        out[k] = buf.readDoubleLE(o);
        break;
    }
  }
  return out;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/** An output tensor in the typed field of its datatype. */
export function encodeOutput(t: V2OutputTensor): { name: string; datatype: string; shape: number[]; contents: Partial<InferTensorContents> } {
  const field = FIELD[t.datatype];
  const data = field === 'bytes_contents' ? t.data.map((v) => Buffer.from(String(v), 'utf8')) : t.data;
  return { name: t.name, datatype: t.datatype, shape: t.shape, contents: { [field]: data } };
}
