import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  deploymentRefSchema,
  endDeploymentSchema,
  parseOrThrow,
  shiftTrafficSchema,
  startDeploymentSchema,
  subjects,
  type DeploymentView,
  type RpcRequest,
} from '@mlp/contracts';
import { commandMetadata, RequireScopes, ZodBody } from '@mlp/service-kit';
import { DeploymentsService } from './deployments.service';

const asObject = (body: unknown): Record<string, unknown> => (body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {});

/**
 * The rollout admin API (admin scope to change, read to look) and the same
 * commands over NATS: both validate with the contracts' schemas and run the
 * same service.
 */
@ApiTags('deployments')
@Controller('deployments')
export class DeploymentsController {
  constructor(private readonly deployments: DeploymentsService) {}

  @Post()
  @HttpCode(201)
  @RequireScopes('admin')
  @ApiOperation({ summary: 'Start a rollout of a version: blue-green, canary (weight, auto policy, schedule), ab (sticky by header or field) or shadow (mirrored percent)' })
  @ZodBody(startDeploymentSchema)
  @ApiBody({ schema: { type: 'object', example: { model: 'churn', version: 3, strategy: 'canary', weight: 10, auto: true, policy: { minRequests: 500, maxErrorRate: 0.01, maxP99Ms: 50 } } } })
  start(@Body() body: unknown): Promise<DeploymentView> {
    return this.deployments.start(parseOrThrow(startDeploymentSchema, body, 'request'), commandMetadata());
  }

  @Get(':model')
  @RequireScopes(['read', 'predict'])
  @ApiOperation({ summary: 'The current split and the full rollout history, replayed from the deployment events' })
  get(@Param('model') model: string): Promise<DeploymentView> {
    return this.deployments.view(parseOrThrow(deploymentRefSchema, { model }, 'path').model);
  }

  @Post(':model/shift')
  @HttpCode(200)
  @RequireScopes('admin')
  @ApiOperation({ summary: 'Move a canary or A/B split: {weight} (the candidate’s percent) or {weights: {stable, candidate}} summing to 100' })
  shift(@Param('model') model: string, @Body() body: unknown): Promise<DeploymentView> {
    return this.deployments.shift(parseOrThrow(shiftTrafficSchema, { ...asObject(body), model }, 'request'), commandMetadata());
  }

  @Post(':model/promote')
  @HttpCode(200)
  @RequireScopes('admin')
  @ApiOperation({ summary: 'Promote the candidate (must be loaded): the alias moves to it in the registry and the rollout completes' })
  promote(@Param('model') model: string, @Body() body: unknown): Promise<DeploymentView> {
    return this.deployments.promote(parseOrThrow(endDeploymentSchema, { ...asObject(body), model }, 'request'), commandMetadata());
  }

  @Post(':model/rollback')
  @HttpCode(200)
  @RequireScopes('admin')
  @ApiOperation({ summary: 'Roll back: all traffic to the stable version the rollout started from' })
  rollback(@Param('model') model: string, @Body() body: unknown): Promise<DeploymentView> {
    return this.deployments.rollback(parseOrThrow(endDeploymentSchema, { ...asObject(body), model }, 'request'), commandMetadata());
  }

  @MessagePattern(subjects.cmd.serving.startDeployment)
  startRpc(@Payload() r: RpcRequest) {
    return this.deployments.start(parseOrThrow(startDeploymentSchema, r?.payload, 'payload'), commandMetadata());
  }

  @MessagePattern(subjects.cmd.serving.shiftTraffic)
  shiftRpc(@Payload() r: RpcRequest) {
    return this.deployments.shift(parseOrThrow(shiftTrafficSchema, r?.payload, 'payload'), commandMetadata());
  }

  @MessagePattern(subjects.cmd.serving.promoteDeployment)
  promoteRpc(@Payload() r: RpcRequest) {
    return this.deployments.promote(parseOrThrow(endDeploymentSchema, r?.payload, 'payload'), commandMetadata());
  }

  @MessagePattern(subjects.cmd.serving.rollbackDeployment)
  rollbackRpc(@Payload() r: RpcRequest) {
    return this.deployments.rollback(parseOrThrow(endDeploymentSchema, r?.payload, 'payload'), commandMetadata());
  }

  @MessagePattern(subjects.qry.serving.getDeployment)
  getRpc(@Payload() r: RpcRequest) {
    return this.deployments.view(parseOrThrow(deploymentRefSchema, r?.payload, 'payload').model);
  }
}
