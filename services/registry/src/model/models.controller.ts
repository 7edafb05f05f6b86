import type { IncomingMessage } from 'node:http';
import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Put, Query, Req, Res } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import type { ArtifactStore } from '@mlp/artifacts';
import {
  aliasRefSchema,
  approveModelVersionSchema,
  archiveModelVersionSchema,
  assignAliasSchema,
  compareVersionsSchema,
  createRegisteredModelSchema,
  deleteRegisteredModelSchema,
  describeRegisteredModelSchema,
  getRegisteredModelSchema,
  modelVersionRefSchema,
  NotFoundError,
  parseOrThrow,
  registerModelVersionSchema,
  removeAliasSchema,
  rollbackAliasSchema,
  searchVersionsSchema,
  setRegistrationPolicySchema,
  subjects,
  tagModelVersionSchema,
  tagRegisteredModelSchema,
  ValidationError,
  type RpcRequest,
} from '@mlp/contracts';
import { ARTIFACT_STORE, commandMetadata, sendArtifact, ZodBody } from '@mlp/service-kit';
import { asObject, ifMatch, jsonOrYamlBody, metricsQuery, tagsQuery } from './http-input';
import { markdownToHtml, registryModelCard } from './model-card';
import { ModelCommandsService } from './model-commands.service';
import { RegistryService } from './registry.service';

const artifactKinds = { model: 'model', weights: 'weights', preprocessing: 'preprocessing', report: 'report', 'model-card': 'modelCard' } as const;
const artifactFile: Record<string, string> = { model: 'model.json', weights: 'weights.bin', preprocessing: 'preprocessing.json', report: 'report.json', modelCard: 'model-card.md' };

/** Registered models, versions, aliases and approvals over HTTP and NATS: both paths validate with the same schemas and run the same commands. */
@ApiTags('registry')
@Controller('models')
export class ModelsController {
  constructor(
    private readonly commands: ModelCommandsService,
    private readonly registry: RegistryService,
    @Inject(ARTIFACT_STORE) private readonly artifacts: ArtifactStore,
  ) {}

  // ---- models --------------------------------------------------------------

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a registered model' })
  @ZodBody(createRegisteredModelSchema)
  create(@Body() body: unknown) {
    return this.commands.create(parseOrThrow(createRegisteredModelSchema, body, 'request'), commandMetadata());
  }

  @Get()
  @ApiOperation({ summary: 'List registered models (?tag=key:value, repeatable: all must match)' })
  list(@Query('tag') tag?: unknown) {
    const tags = tagsQuery(tag);
    return { models: this.registry.listModels().filter((m) => Object.entries(tags).every(([k, v]) => m.tags[k] === v)) };
  }

  @Get(':name')
  @ApiOperation({ summary: 'A registered model: description, tags, aliases, latest version, policy, revision' })
  get(@Param('name') name: string) {
    return this.registry.getModel(parseOrThrow(getRegisteredModelSchema, { name }, 'path').name);
  }

  @Patch(':name')
  @ApiOperation({ summary: 'Change the description' })
  @ZodBody(describeRegisteredModelSchema.omit({ name: true }))
  describe(@Param('name') name: string, @Body() body: unknown) {
    return this.commands.describe(parseOrThrow(describeRegisteredModelSchema, { ...asObject(body), name }, 'request'), commandMetadata());
  }

  @Post(':name/tags')
  @HttpCode(200)
  @ApiOperation({ summary: 'Set and remove tags' })
  tag(@Param('name') name: string, @Body() body: unknown) {
    return this.commands.tag(parseOrThrow(tagRegisteredModelSchema, { ...asObject(body), name }, 'request'), commandMetadata());
  }

  @Delete(':name')
  @ApiOperation({ summary: 'Soft-delete a model (refused with 409 while an alias points into it); body or query {reason, expectedRevision}' })
  delete(@Param('name') name: string, @Body() body: unknown, @Query() query: Record<string, string>, @Req() req: IncomingMessage) {
    const input = { expectedRevision: ifMatch(req), ...query, ...asObject(body), name };
    return this.commands.delete(parseOrThrow(deleteRegisteredModelSchema, input, 'request'), commandMetadata());
  }

  @Get(':name/policy')
  @ApiOperation({ summary: "The model's registration policy (or the registry default)" })
  policy(@Param('name') name: string) {
    return this.registry.getModel(parseOrThrow(getRegisteredModelSchema, { name }, 'path').name).policy;
  }

  @Put(':name/policy')
  @ApiOperation({ summary: 'Set the registration policy: {registration: blessed-only|every-run|manual, approvalRequiredFor: [aliases]} as JSON or YAML' })
  @ZodBody(setRegistrationPolicySchema.omit({ name: true }))
  async setPolicy(@Param('name') name: string, @Req() req: IncomingMessage & { body?: unknown }) {
    const dto = parseOrThrow(setRegistrationPolicySchema, { ...(await jsonOrYamlBody(req)), name }, 'request');
    return (await this.commands.setPolicy(dto, commandMetadata())).policy;
  }

  // ---- versions --------------------------------------------------------------

  @Post(':name/versions')
  @HttpCode(201)
  @ApiOperation({ summary: 'Register a completed run as a new version (by hand; the model is created when absent)' })
  @ZodBody(registerModelVersionSchema.omit({ name: true }))
  register(@Param('name') name: string, @Body() body: unknown) {
    return this.commands.register(parseOrThrow(registerModelVersionSchema, { ...asObject(body), name }, 'request'), commandMetadata());
  }

  @Get(':name/versions')
  @ApiOperation({ summary: 'Versions of a model (?tag=key:value, ?metric=accuracy>=0.9, ?alias, ?status=active|archived, ?runId)' })
  versions(@Param('name') name: string, @Query() query: Record<string, unknown>) {
    return { versions: this.registry.searchVersions(this.searchQuery({ ...query, name })) };
  }

  @Get(':name/compare')
  @ApiOperation({ summary: 'Compare two versions (?a=1&b=2): metrics with deltas, params, lineage inputs, signature' })
  compare(@Param('name') name: string, @Query() query: Record<string, string>) {
    const dto = parseOrThrow(compareVersionsSchema, { ...query, name }, 'query');
    return this.registry.compare(dto.name, dto.a, dto.b);
  }

  @Get(':name/versions/:version')
  @ApiOperation({ summary: 'One version: signature, metrics, params, artifacts by content hash, backend, run, tags, aliases, approvals' })
  version(@Param('name') name: string, @Param('version') version: string) {
    const dto = parseOrThrow(modelVersionRefSchema, { name, version }, 'path');
    return this.registry.getVersion(dto.name, dto.version);
  }

  @Post(':name/versions/:version/tags')
  @HttpCode(200)
  @ApiOperation({ summary: 'Set and remove tags of a version' })
  tagVersion(@Param('name') name: string, @Param('version') version: string, @Body() body: unknown) {
    return this.commands.tagVersion(parseOrThrow(tagModelVersionSchema, { ...asObject(body), name, version }, 'request'), commandMetadata());
  }

  @Post(':name/versions/:version/approvals')
  @HttpCode(201)
  @ApiOperation({ summary: 'Approve a version for an alias ({alias, reason}); the approver is the caller' })
  @ZodBody(approveModelVersionSchema.omit({ name: true, version: true }))
  approve(@Param('name') name: string, @Param('version') version: string, @Body() body: unknown) {
    return this.commands.approve(parseOrThrow(approveModelVersionSchema, { ...asObject(body), name, version }, 'request'), commandMetadata());
  }

  @Post(':name/versions/:version/archive')
  @HttpCode(200)
  @ApiOperation({ summary: 'Archive a version (it can then receive no alias; refused while it holds one)' })
  archive(@Param('name') name: string, @Param('version') version: string, @Body() body: unknown, @Req() req: IncomingMessage) {
    return this.commands.archive(parseOrThrow(archiveModelVersionSchema, { expectedRevision: ifMatch(req), ...asObject(body), name, version }, 'request'), commandMetadata());
  }

  @Get(':name/versions/:version/artifacts/:kind')
  @ApiOperation({ summary: 'Download an artifact of the version (model | weights | preprocessing | report | model-card), streamed with its sha256' })
  async artifact(@Param('name') name: string, @Param('version') version: string, @Param('kind') kind: string, @Res() res: Response) {
    const dto = parseOrThrow(modelVersionRefSchema, { name, version }, 'path');
    const v = this.registry.getVersion(dto.name, dto.version);
    const field = artifactKinds[kind as keyof typeof artifactKinds];
    if (!field) throw new NotFoundError(`unknown artifact '${kind}': use one of ${Object.keys(artifactKinds).join(', ')}`, { code: 'ARTIFACT_NOT_FOUND' });
    const key = v.artifacts[field];
    if (!key) throw new NotFoundError(`version ${dto.version} of '${dto.name}' has no ${kind} artifact`, { code: 'ARTIFACT_NOT_FOUND' });
    await sendArtifact(res, this.artifacts, key, { filename: `${dto.name}-v${dto.version}-${artifactFile[field]}` });
  }

  @Get(':name/versions/:version/model-card')
  @ApiOperation({ summary: 'The model card as Markdown, or HTML with ?format=html or Accept: text/html' })
  async modelCard(@Param('name') name: string, @Param('version') version: string, @Query('format') format: string | undefined, @Req() req: IncomingMessage, @Res() res: Response) {
    const dto = parseOrThrow(modelVersionRefSchema, { name, version }, 'path');
    const v = this.registry.getVersion(dto.name, dto.version);
    const history = this.registry.projection.aliasNames(dto.name).flatMap((a) => this.registry.projection.aliasHistory(dto.name, a)).filter((h) => h.version === dto.version);
    const trainingCard = v.artifacts.modelCard ? (await this.artifacts.getBuffer(v.artifacts.modelCard, { maxBytes: 4 * 1024 * 1024 })).toString('utf8') : null;
    const markdown = registryModelCard(v, history, trainingCard);
    if (format !== undefined && format !== 'html' && format !== 'markdown') {
      throw new ValidationError(`invalid format '${format}': use markdown or html`, [{ path: 'format', message: 'expected markdown or html' }]);
    }
    const html = format === 'html' || (format === undefined && String(req.headers.accept ?? '').includes('text/html'));
    res.status(200).type(html ? 'text/html; charset=utf-8' : 'text/markdown; charset=utf-8').send(html ? markdownToHtml(markdown, `${dto.name} v${dto.version}`) : markdown);
  }

  // ---- aliases ---------------------------------------------------------------

  @Get(':name/aliases')
  @ApiOperation({ summary: 'Aliases of a model: alias → version' })
  aliases(@Param('name') name: string) {
    const model = this.registry.getModel(parseOrThrow(getRegisteredModelSchema, { name }, 'path').name);
    return { name: model.name, aliases: model.aliases ?? {}, revision: model.revision };
  }

  @Get(':name/aliases/:alias')
  @ApiOperation({ summary: 'The version an alias points to' })
  byAlias(@Param('name') name: string, @Param('alias') alias: string) {
    const dto = parseOrThrow(aliasRefSchema, { name, alias }, 'path');
    return this.registry.versionByAlias(dto.name, dto.alias);
  }

  @Put(':name/aliases/:alias')
  @ApiOperation({ summary: 'Assign or move an alias: {version, reason, expectedRevision} (or If-Match); 412 when the model changed since expectedRevision' })
  @ZodBody(assignAliasSchema.omit({ name: true, alias: true }))
  assign(@Param('name') name: string, @Param('alias') alias: string, @Body() body: unknown, @Req() req: IncomingMessage) {
    return this.commands.assignAlias(parseOrThrow(assignAliasSchema, { expectedRevision: ifMatch(req), ...asObject(body), name, alias }, 'request'), commandMetadata());
  }

  @Delete(':name/aliases/:alias')
  @ApiOperation({ summary: 'Remove an alias: body or query {reason, expectedRevision}' })
  remove(@Param('name') name: string, @Param('alias') alias: string, @Body() body: unknown, @Query() query: Record<string, string>, @Req() req: IncomingMessage) {
    return this.commands.removeAlias(parseOrThrow(removeAliasSchema, { expectedRevision: ifMatch(req), ...query, ...asObject(body), name, alias }, 'request'), commandMetadata());
  }

  @Post(':name/aliases/:alias/rollback')
  @HttpCode(200)
  @ApiOperation({ summary: 'Move the alias back to its previous holder, recorded as a rollback with {reason}; 409 NO_ALIAS_HISTORY when there is none' })
  @ZodBody(rollbackAliasSchema.omit({ name: true, alias: true }))
  rollback(@Param('name') name: string, @Param('alias') alias: string, @Body() body: unknown, @Req() req: IncomingMessage) {
    return this.commands.rollback(parseOrThrow(rollbackAliasSchema, { expectedRevision: ifMatch(req), ...asObject(body), name, alias }, 'request'), commandMetadata());
  }

  @Get(':name/aliases/:alias/history')
  @ApiOperation({ summary: 'Every version that held the alias, with from/to times, how it started and ended, actors and reasons' })
  history(@Param('name') name: string, @Param('alias') alias: string) {
    const dto = parseOrThrow(aliasRefSchema, { name, alias }, 'path');
    return this.registry.aliasHistory(dto.name, dto.alias);
  }

  // ---- NATS ------------------------------------------------------------------

  @MessagePattern(subjects.cmd.registry.createModel)
  createRpc(@Payload() r: RpcRequest) {
    return this.commands.create(parseOrThrow(createRegisteredModelSchema, r?.payload, 'payload'), commandMetadata());
  }

  @MessagePattern(subjects.cmd.registry.describeModel)
  describeRpc(@Payload() r: RpcRequest) {
    return this.commands.describe(parseOrThrow(describeRegisteredModelSchema, r?.payload, 'payload'), commandMetadata());
  }

  @MessagePattern(subjects.cmd.registry.tagModel)
  tagRpc(@Payload() r: RpcRequest) {
    return this.commands.tag(parseOrThrow(tagRegisteredModelSchema, r?.payload, 'payload'), commandMetadata());
  }

  @MessagePattern(subjects.cmd.registry.deleteModel)
  deleteRpc(@Payload() r: RpcRequest) {
    return this.commands.delete(parseOrThrow(deleteRegisteredModelSchema, r?.payload, 'payload'), commandMetadata());
  }

  @MessagePattern(subjects.cmd.registry.setPolicy)
  async setPolicyRpc(@Payload() r: RpcRequest) {
    return (await this.commands.setPolicy(parseOrThrow(setRegistrationPolicySchema, r?.payload, 'payload'), commandMetadata())).policy;
  }

  @MessagePattern(subjects.cmd.registry.registerVersion)
  registerRpc(@Payload() r: RpcRequest) {
    return this.commands.register(parseOrThrow(registerModelVersionSchema, r?.payload, 'payload'), commandMetadata());
  }

  @MessagePattern(subjects.cmd.registry.tagVersion)
  tagVersionRpc(@Payload() r: RpcRequest) {
    return this.commands.tagVersion(parseOrThrow(tagModelVersionSchema, r?.payload, 'payload'), commandMetadata());
  }

  @MessagePattern(subjects.cmd.registry.approveVersion)
  approveRpc(@Payload() r: RpcRequest) {
    return this.commands.approve(parseOrThrow(approveModelVersionSchema, r?.payload, 'payload'), commandMetadata());
  }

  @MessagePattern(subjects.cmd.registry.archiveVersion)
  archiveRpc(@Payload() r: RpcRequest) {
    return this.commands.archive(parseOrThrow(archiveModelVersionSchema, r?.payload, 'payload'), commandMetadata());
  }

  @MessagePattern(subjects.cmd.registry.assignAlias)
  assignRpc(@Payload() r: RpcRequest) {
    return this.commands.assignAlias(parseOrThrow(assignAliasSchema, r?.payload, 'payload'), commandMetadata());
  }

  @MessagePattern(subjects.cmd.registry.removeAlias)
  removeRpc(@Payload() r: RpcRequest) {
    return this.commands.removeAlias(parseOrThrow(removeAliasSchema, r?.payload, 'payload'), commandMetadata());
  }

  @MessagePattern(subjects.cmd.registry.rollbackAlias)
  rollbackRpc(@Payload() r: RpcRequest) {
    return this.commands.rollback(parseOrThrow(rollbackAliasSchema, r?.payload, 'payload'), commandMetadata());
  }

  @MessagePattern(subjects.qry.registry.getModel)
  getRpc(@Payload() r: RpcRequest) {
    return this.registry.getModel(parseOrThrow(getRegisteredModelSchema, r?.payload, 'payload').name);
  }

  @MessagePattern(subjects.qry.registry.listModels)
  listRpc() {
    return { models: this.registry.listModels() };
  }

  @MessagePattern(subjects.qry.registry.listVersions)
  listVersionsRpc(@Payload() r: RpcRequest) {
    return { versions: this.registry.listVersions(parseOrThrow(getRegisteredModelSchema, r?.payload, 'payload').name) };
  }

  @MessagePattern(subjects.qry.registry.getVersion)
  getVersionRpc(@Payload() r: RpcRequest) {
    const dto = parseOrThrow(modelVersionRefSchema, r?.payload, 'payload');
    return this.registry.getVersion(dto.name, dto.version);
  }

  @MessagePattern(subjects.qry.registry.searchVersions)
  searchRpc(@Payload() r: RpcRequest) {
    return { versions: this.registry.searchVersions(parseOrThrow(searchVersionsSchema, r?.payload ?? {}, 'payload')) };
  }

  @MessagePattern(subjects.qry.registry.compareVersions)
  compareRpc(@Payload() r: RpcRequest) {
    const dto = parseOrThrow(compareVersionsSchema, r?.payload, 'payload');
    return this.registry.compare(dto.name, dto.a, dto.b);
  }

  @MessagePattern(subjects.qry.registry.aliasHistory)
  historyRpc(@Payload() r: RpcRequest) {
    const dto = parseOrThrow(aliasRefSchema, r?.payload, 'payload');
    return this.registry.aliasHistory(dto.name, dto.alias);
  }

  private searchQuery(query: Record<string, unknown>) {
    const { tag, metric, ...rest } = query;
    return parseOrThrow(searchVersionsSchema, { ...rest, tags: tagsQuery(tag), metrics: metricsQuery(metric) }, 'query');
  }
}

/** Version search across every model: `GET /versions?model=&tag=&metric=&alias=&status=`. */
@ApiTags('registry')
@Controller('versions')
export class VersionsController {
  constructor(private readonly registry: RegistryService) {}

  @Get()
  @ApiOperation({ summary: 'Search versions across models (?model, ?tag=key:value, ?metric=accuracy>=0.9, ?alias, ?status, ?runId)' })
  search(@Query() query: Record<string, unknown>) {
    const { tag, metric, model, ...rest } = query;
    return { versions: this.registry.searchVersions(parseOrThrow(searchVersionsSchema, { ...rest, ...(model ? { name: model } : {}), tags: tagsQuery(tag), metrics: metricsQuery(metric) }, 'query')) };
  }
}
