import { ArgumentsHost, Body, Catch, Controller, Delete, Get, HttpCode, Post, Query, UseFilters, type ExceptionFilter } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { z } from 'zod';
import {
  aliasName,
  ConcurrencyError,
  DomainError,
  getRegisteredModelSchema,
  IllegalStateError,
  NotFoundError,
  parseOrThrow,
  PayloadTooLargeError,
  ValidationError,
  type ModelVersionView,
  type RegisteredModelView,
} from '@mlp/contracts';
import { commandMetadata } from '@mlp/service-kit';
import { asObject } from '../model/http-input';
import { ModelCommandsService } from '../model/model-commands.service';
import { RegistryService } from '../model/registry.service';

/** MLflow's error body `{error_code, message}` with its status codes (mlflow/protos/databricks.proto). */
export function mlflowError(err: unknown): { status: number; body: { error_code: string; message: string; details?: unknown } } {
  if (err instanceof ValidationError) return { status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE', message: err.message, details: err.details } };
  if (err instanceof NotFoundError) return { status: 404, body: { error_code: 'RESOURCE_DOES_NOT_EXIST', message: err.message } };
  if (err instanceof IllegalStateError && err.code === 'MODEL_EXISTS') return { status: 400, body: { error_code: 'RESOURCE_ALREADY_EXISTS', message: err.message } };
  if (err instanceof IllegalStateError) return { status: 400, body: { error_code: 'INVALID_STATE', message: err.message } };
  if (err instanceof ConcurrencyError) return { status: 409, body: { error_code: 'ABORTED', message: err.message } };
  if (err instanceof PayloadTooLargeError) return { status: 413, body: { error_code: 'REQUEST_LIMIT_EXCEEDED', message: err.message } };
  if (err instanceof DomainError && err.name === 'UnauthorizedError') return { status: 401, body: { error_code: 'UNAUTHENTICATED', message: err.message } };
  if (err instanceof DomainError && err.name === 'ForbiddenError') return { status: 403, body: { error_code: 'PERMISSION_DENIED', message: err.message } };
  if (err instanceof DomainError && err.name === 'InfrastructureError') return { status: 503, body: { error_code: 'TEMPORARILY_UNAVAILABLE', message: err.message } };
  return { status: 500, body: { error_code: 'INTERNAL_ERROR', message: 'internal error' } };
}

@Catch()
class MlflowErrorFilter implements ExceptionFilter {
  catch(err: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const { status, body } = mlflowError(err);
    res.status(status).json(body);
  }
}

const ms = (iso: string) => Date.parse(iso);
const tagList = (tags: Record<string, string>) => Object.entries(tags).map(([key, value]) => ({ key, value }));

export function toMlflowVersion(v: ModelVersionView) {
  return {
    name: v.name,
    version: String(v.version),
    creation_timestamp: ms(v.createdAt),
    last_updated_timestamp: ms(v.updatedAt),
    user_id: v.createdBy,
    current_stage: v.status === 'archived' ? 'Archived' : 'None',
    description: v.description,
    source: `mlp-artifacts:/${v.artifacts.model ?? ''}`,
    run_id: v.runId,
    status: 'READY',
    status_message: '',
    tags: tagList(v.tags),
    run_link: '',
    aliases: [...v.aliases],
  };
}

function toMlflowModel(m: RegisteredModelView, versions: ModelVersionView[]) {
  const latest = versions.length ? [toMlflowVersion(versions[versions.length - 1])] : [];
  return {
    name: m.name,
    creation_timestamp: ms(m.createdAt),
    last_updated_timestamp: ms(m.updatedAt),
    description: m.description,
    latest_versions: latest,
    tags: tagList(m.tags),
    aliases: Object.entries(m.aliases ?? {})
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([alias, version]) => ({ alias, version: String(version) })),
  };
}

type Clause = { field: string; op: '=' | '!=' | 'LIKE' | 'ILIKE'; value: string };

/** MLflow's search filter: clauses `name|run_id|tags.<key>|version_number <op> '<value>'` joined by AND. */
export function parseFilter(filter: string | undefined, fields: string[]): Clause[] {
  if (!filter?.trim()) return [];
  return filter.split(/\s+AND\s+/i).map((part) => {
    const m = /^\s*(tags\.`[^`]+`|tags\.[A-Za-z0-9_.-]+|[A-Za-z_]+)\s*(=|!=|LIKE|ILIKE)\s*(?:'((?:[^']|'')*)'|"((?:[^"])*)"|(\d+))\s*$/i.exec(part);
    const field = m?.[1].replace(/^tags\.`(.*)`$/, 'tags.$1');
    if (!m || !field || !(fields.includes(field) || (field.startsWith('tags.') && fields.includes('tags')))) {
      throw new ValidationError(`invalid filter clause '${part.trim()}': use ${fields.map((f) => (f === 'tags' ? 'tags.<key>' : f)).join(', ')} with =, !=, LIKE or ILIKE and a quoted value`, [
        { path: 'filter', message: 'unsupported clause' },
      ]);
    }
    return { field, op: m[2].toUpperCase() as Clause['op'], value: (m[3] ?? m[4] ?? m[5]).replace(/''/g, "'") };
  });
}

function matches(clause: Clause, actual: string | undefined): boolean {
  if (actual === undefined) return clause.op === '!=';
  if (clause.op === '=') return actual === clause.value;
  if (clause.op === '!=') return actual !== clause.value;
  const pattern = new RegExp(`^${clause.value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/%/g, '.*').replace(/_/g, '.')}$`, clause.op === 'ILIKE' ? 'i' : '');
  return pattern.test(actual);
}

const pageSchema = z.object({ max_results: z.coerce.number().int().positive().max(200_000).optional(), page_token: z.string().optional(), filter: z.string().optional(), order_by: z.union([z.string(), z.array(z.string())]).optional() });

function page<T>(items: T[], query: z.infer<typeof pageSchema>, defaultMax: number): { items: T[]; next?: string } {
  const offset = query.page_token ? Number(Buffer.from(query.page_token, 'base64url').toString('utf8')) : 0;
  if (!Number.isInteger(offset) || offset < 0) throw new ValidationError('invalid page_token', [{ path: 'page_token', message: 'not a token this server issued' }]);
  const max = query.max_results ?? defaultMax;
  const slice = items.slice(offset, offset + max);
  return { items: slice, ...(offset + max < items.length ? { next: Buffer.from(String(offset + max)).toString('base64url') } : {}) };
}

function orderBy<T>(items: T[], orders: string | string[] | undefined, keys: Record<string, (t: T) => string | number>, fallback: (a: T, b: T) => number): T[] {
  const list = (Array.isArray(orders) ? orders : orders ? [orders] : []).map((o) => {
    const m = /^\s*([a-z_]+)(?:\s+(ASC|DESC))?\s*$/i.exec(o);
    if (!m || !keys[m[1]]) throw new ValidationError(`invalid order_by '${o}': use ${Object.keys(keys).join(', ')} [ASC|DESC]`, [{ path: 'order_by', message: 'unsupported column' }]);
    return { key: keys[m[1]], desc: (m[2] ?? 'ASC').toUpperCase() === 'DESC' };
  });
  return [...items].sort((a, b) => {
    for (const o of list) {
      const x = o.key(a);
      const y = o.key(b);
      if (x !== y) return (x < y ? -1 : 1) * (o.desc ? -1 : 1);
    }
    return fallback(a, b);
  });
}

const name = getRegisteredModelSchema.shape.name;
const mlflowTags = z.array(z.object({ key: z.string().min(1), value: z.string() })).default([]);
const createSchema = z.object({ name, tags: mlflowTags, description: z.string().max(2000).optional() });
const nameSchema = z.object({ name });
const versionSchema = z.object({ name, version: z.coerce.number().int().positive() });
const setAliasSchema = z.object({ name, alias: aliasName, version: z.coerce.number().int().positive() });
const aliasSchema = z.object({ name, alias: aliasName });

/**
 * The MLflow Model Registry REST subset (`/api/2.0/mlflow/…`) with MLflow's documented request and response
 * shapes (mlflow/protos/model_registry.proto), so MLflow clients and scripts can read and promote models here.
 * Versions are numbers sent as strings; timestamps are epoch milliseconds; errors are `{error_code, message}`.
 * Writes go through the same commands as the native API (approval policies and history included).
 */
@ApiTags('mlflow')
@Controller('api/2.0/mlflow')
@UseFilters(new MlflowErrorFilter())
export class MlflowController {
  constructor(
    private readonly commands: ModelCommandsService,
    private readonly registry: RegistryService,
  ) {}

  @Post('registered-models/create')
  @HttpCode(200)
  @ApiOperation({ summary: 'MLflow CreateRegisteredModel: {name, tags: [{key, value}], description} → {registered_model}' })
  async create(@Body() body: unknown) {
    const dto = parseOrThrow(createSchema, body, 'request');
    const model = await this.commands.create({ name: dto.name, description: dto.description, tags: Object.fromEntries(dto.tags.map((t) => [t.key, t.value])) }, commandMetadata());
    return { registered_model: toMlflowModel(model, []) };
  }

  @Get('registered-models/get')
  @ApiOperation({ summary: 'MLflow GetRegisteredModel: ?name → {registered_model}' })
  get(@Query() query: unknown) {
    const { name: n } = parseOrThrow(nameSchema, query, 'query');
    return { registered_model: toMlflowModel(this.registry.getModel(n), this.registry.listVersions(n)) };
  }

  @Get('registered-models/search')
  @ApiOperation({ summary: "MLflow SearchRegisteredModels: ?filter (name / tags.<k> with = != LIKE ILIKE), max_results, order_by, page_token → {registered_models, next_page_token}" })
  search(@Query() query: unknown) {
    const q = parseOrThrow(pageSchema, query, 'query');
    const clauses = parseFilter(q.filter, ['name', 'tags']);
    const found = this.registry.listModels().filter((m) => clauses.every((c) => matches(c, c.field === 'name' ? m.name : m.tags[c.field.slice(5)])));
    const sorted = orderBy(found, q.order_by, { name: (m) => m.name, last_updated_timestamp: (m) => ms(m.updatedAt), timestamp: (m) => ms(m.updatedAt) }, (a, b) => a.name.localeCompare(b.name));
    const { items, next } = page(sorted, q, 100);
    return { registered_models: items.map((m) => toMlflowModel(m, this.registry.listVersions(m.name))), ...(next ? { next_page_token: next } : {}) };
  }

  @Delete('registered-models/delete')
  @ApiOperation({ summary: 'MLflow DeleteRegisteredModel: {name} → {} (a soft delete, refused while an alias points into the model)' })
  async delete(@Body() body: unknown, @Query() query: Record<string, string>) {
    const { name: n } = parseOrThrow(nameSchema, { ...query, ...asObject(body) }, 'request');
    await this.commands.delete({ name: n, reason: 'MLflow DeleteRegisteredModel' }, commandMetadata());
    return {};
  }

  @Get('model-versions/get')
  @ApiOperation({ summary: 'MLflow GetModelVersion: ?name&version → {model_version}' })
  getVersion(@Query() query: unknown) {
    const dto = parseOrThrow(versionSchema, query, 'query');
    return { model_version: toMlflowVersion(this.registry.getVersion(dto.name, dto.version)) };
  }

  @Get('model-versions/search')
  @ApiOperation({ summary: "MLflow SearchModelVersions: ?filter (name, run_id, version_number, tags.<k>), max_results, order_by, page_token → {model_versions, next_page_token}" })
  searchVersions(@Query() query: unknown) {
    const q = parseOrThrow(pageSchema, query, 'query');
    const clauses = parseFilter(q.filter, ['name', 'run_id', 'version_number', 'tags']);
    const value = (v: ModelVersionView, field: string) =>
      field === 'name' ? v.name : field === 'run_id' ? v.runId : field === 'version_number' ? String(v.version) : v.tags[field.slice(5)];
    const found = this.registry.listModels().flatMap((m) => this.registry.listVersions(m.name)).filter((v) => clauses.every((c) => matches(c, value(v, c.field))));
    const sorted = orderBy(
      found,
      q.order_by,
      { name: (v) => v.name, version_number: (v) => v.version, creation_timestamp: (v) => ms(v.createdAt), last_updated_timestamp: (v) => ms(v.updatedAt) },
      (a, b) => a.name.localeCompare(b.name) || b.version - a.version,
    );
    const { items, next } = page(sorted, q, 10_000);
    return { model_versions: items.map(toMlflowVersion), ...(next ? { next_page_token: next } : {}) };
  }

  @Post('registered-models/alias')
  @HttpCode(200)
  @ApiOperation({ summary: 'MLflow SetRegisteredModelAlias: {name, alias, version} → {}' })
  async setAlias(@Body() body: unknown) {
    const dto = parseOrThrow(setAliasSchema, body, 'request');
    await this.commands.assignAlias({ ...dto, reason: 'MLflow SetRegisteredModelAlias' }, commandMetadata());
    return {};
  }

  @Delete('registered-models/alias')
  @ApiOperation({ summary: 'MLflow DeleteRegisteredModelAlias: {name, alias} → {}' })
  async deleteAlias(@Body() body: unknown, @Query() query: Record<string, string>) {
    const dto = parseOrThrow(aliasSchema, { ...query, ...asObject(body) }, 'request');
    await this.commands.removeAlias({ ...dto, reason: 'MLflow DeleteRegisteredModelAlias' }, commandMetadata());
    return {};
  }

  @Get('registered-models/alias')
  @ApiOperation({ summary: 'MLflow GetModelVersionByAlias: ?name&alias → {model_version}' })
  byAlias(@Query() query: unknown) {
    const dto = parseOrThrow(aliasSchema, query, 'query');
    return { model_version: toMlflowVersion(this.registry.versionByAlias(dto.name, dto.alias)) };
  }

  @Get('registered-models/get-by-alias')
  @ApiOperation({ summary: 'The same as GET registered-models/alias (GetModelVersionByAlias), under the name the issue uses' })
  getByAlias(@Query() query: unknown) {
    return this.byAlias(query);
  }
}
