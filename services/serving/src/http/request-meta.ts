import type { IncomingMessage } from 'node:http';
import { ValidationError, parseModelRef, type ModelRef } from '@mlp/contracts';
import { requestAuth } from '@mlp/service-kit';

const REQUEST_ID = /^[A-Za-z0-9._:@-]{1,200}$/;

/** `x-request-id` when it is a sane id; otherwise the service picks one. */
export function requestIdOf(req: IncomingMessage, fromBody?: unknown): string | undefined {
  if (typeof fromBody === 'string' && REQUEST_ID.test(fromBody)) return fromBody;
  const header = req.headers['x-request-id'];
  return typeof header === 'string' && REQUEST_ID.test(header) ? header : undefined;
}

export function keyIdOf(req: IncomingMessage): string | undefined {
  return requestAuth(req).principal?.keyId;
}

/** `{m}` of a path: `churn`, `churn@production` or `churn:3`. */
export function modelRefOf(m: string): ModelRef {
  const ref = parseModelRef(m);
  if (!ref) throw new ValidationError(`'${m}' is not a model reference`, [{ path: 'model', message: 'use <name>, <name>@<alias> or <name>:<version>' }], { code: 'INVALID_MODEL_REF' });
  return ref;
}

/** `{v}` of `/versions/{v}`: the registry's version number. */
export function versionOf(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^[1-9][0-9]{0,8}$/.test(v)) throw new ValidationError(`'${v}' is not a version number`, [{ path: 'version', message: 'a positive integer (the registry version)' }], { code: 'INVALID_MODEL_REF' });
  return Number(v);
}
