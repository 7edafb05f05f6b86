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

/** Parsed references of recent paths (a client names the same few models on every request). */
const refs = new Map<string, Readonly<ModelRef>>();

/** `{m}` of a path: `churn`, `churn@production` or `churn:3`. */
export function modelRefOf(m: string): ModelRef {
  let ref = refs.get(m);
  if (ref) return ref;
  const parsed = parseModelRef(m);
  if (!parsed) throw new ValidationError(`'${m}' is not a model reference`, [{ path: 'model', message: 'use <name>, <name>@<alias> or <name>:<version>' }], { code: 'INVALID_MODEL_REF' });
  if (refs.size >= 1000) refs.clear();
  refs.set(m, (ref = Object.freeze(parsed)));
  return ref;
}

/** `{v}` of `/versions/{v}`: the registry's version number. */
export function versionOf(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^[1-9][0-9]{0,8}$/.test(v)) throw new ValidationError(`'${v}' is not a version number`, [{ path: 'version', message: 'a positive integer (the registry version)' }], { code: 'INVALID_MODEL_REF' });
  return Number(v);
}
