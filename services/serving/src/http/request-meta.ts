import type { IncomingMessage } from 'node:http';
import { ValidationError, parseModelRef, type ModelRef } from '@mlp/contracts';
import { requestAuth } from '@mlp/service-kit';

/** A single-valued request header. */
export function headerOf(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' ? value : undefined;
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
