import { NotFoundError } from '@mlp/contracts';
import type { Category } from '@mlp/ml';
import { invalidInput } from '../inference/input-schema';
import type { Awaitable, InferenceResult } from '../inference/inference.service';
import { outputTensors, type V2OutputTensor } from '../inference/v2-codec';
import type { ServingRuntime } from '../serving-runtime';
import { modelRefOf, versionOf } from './request-meta';
import { parseInferRequest } from './v2-request';

export interface PredictResponse {
  predictions: (Category | number)[];
  /** Per instance, class probabilities in the order of the model's classes (binary: [negative, positive]). */
  probabilities?: number[][];
  model: string;
  /** The registry's version number. */
  version: string;
  request_id: string;
}

export interface V2InferResponse {
  model_name: string;
  model_version: string;
  id: string;
  parameters?: Record<string, unknown>;
  outputs: V2OutputTensor[];
}

/** Who is calling: the `x-request-id` header and the API key's id (when authenticated). */
export interface CallMeta {
  requestIdHeader?: string;
  keyId?: string;
  /** The request's headers: a sticky rollout may key on one. */
  headers?: Readonly<Record<string, unknown>>;
}

const REQUEST_ID = /^[A-Za-z0-9._:@-]{1,200}$/;
const requestId = (fromBody: unknown, header: string | undefined) =>
  typeof fromBody === 'string' && REQUEST_ID.test(fromBody) ? fromBody : header && REQUEST_ID.test(header) ? header : undefined;

/** `POST /v1/models/{target}` where target is `{m}:predict`. Errors are thrown (or rejected when the request waited); an unbatched answer comes without a promise. */
export function v1Predict(runtime: ServingRuntime, target: string, body: unknown, meta: CallMeta): Awaitable<PredictResponse> {
  const cut = target.lastIndexOf(':');
  if (cut <= 0 || target.slice(cut + 1) !== 'predict') throw new NotFoundError(`no route POST /v1/models/${target}; use /v1/models/{model}:predict`, { code: 'NOT_FOUND' });
  const ref = modelRefOf(target.slice(0, cut));
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw invalidInput([{ path: '', message: 'the body must be a JSON object {"instances": [...]}' }]);
  const b = body as { instances?: unknown; request_id?: unknown; timeout_ms?: unknown };
  const result = runtime.inference.predictInstancesNow(ref, undefined, b.instances, {
    protocol: 'rest-v1',
    requestId: requestId(b.request_id, meta.requestIdHeader),
    keyId: meta.keyId,
    headers: meta.headers,
    timeoutMs: typeof b.timeout_ms === 'number' && b.timeout_ms > 0 ? b.timeout_ms : undefined,
  });
  return result instanceof Promise ? result.then(v1Response) : v1Response(result);
}

function v1Response(result: InferenceResult): PredictResponse {
  // An undefined `probabilities` (regression) is left out of the JSON.
  return {
    predictions: result.outputs.predictions,
    probabilities: result.outputs.probabilities,
    model: result.loaded.name,
    version: String(result.loaded.version),
    request_id: result.requestId,
  };
}

/** `POST /v2/models/{m}[/versions/{v}]/infer`, as {@link v1Predict}. */
export function v2Infer(runtime: ServingRuntime, m: string, v: string | undefined, body: unknown, meta: CallMeta): Awaitable<V2InferResponse> {
  const request = parseInferRequest(body);
  const ref = modelRefOf(m);
  const result = runtime.inference.predictTensorsNow(ref, versionOf(v), request.inputs, {
    protocol: 'rest-v2',
    requestId: requestId(request.id, meta.requestIdHeader),
    keyId: meta.keyId,
    headers: meta.headers,
    timeoutMs: request.timeoutMs,
  });
  const respond = (r: InferenceResult): V2InferResponse => ({
    model_name: m,
    model_version: String(r.loaded.version),
    id: r.requestId,
    outputs: outputTensors(r.loaded, r.outputs, r.n, request.outputs),
  });
  return result instanceof Promise ? result.then(respond) : respond(result);
}
