import type { IncomingMessage } from 'node:http';
import { Controller, Get, HttpCode, Param, Post, Req } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { applyPolicyRequestSchema, getRegisteredModelSchema, parseOrThrow, subjects, type RpcRequest } from '@mlp/contracts';
import { commandMetadata, readText } from '@mlp/service-kit';
import { PoliciesService } from './policies.service';

/** Monitoring policies over HTTP and NATS. */
@ApiTags('policies')
@Controller('policies')
export class PoliciesController {
  constructor(private readonly policies: PoliciesService) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({ summary: 'Apply a policy.yaml (text/yaml body, or JSON {yaml} or {policy}); 400 names every bad field' })
  async apply(@Req() req: IncomingMessage & { body?: unknown }) {
    const type = String(req.headers['content-type'] ?? '');
    const input = type.includes('json') ? parseOrThrow(applyPolicyRequestSchema, req.body, 'request') : { yaml: await readText(req) };
    return this.policies.apply(input as { yaml: string } | { policy: unknown }, commandMetadata());
  }

  @Get()
  @ApiOperation({ summary: 'Policies in force, per model' })
  list() {
    return { policies: this.policies.list() };
  }

  @Get(':model')
  @ApiOperation({ summary: "A model's policy in force" })
  get(@Param('model') model: string) {
    return this.policies.get(parseOrThrow(getRegisteredModelSchema, { name: model }, 'path').name);
  }

  @MessagePattern(subjects.cmd.monitoring.applyPolicy)
  applyRpc(@Payload() request: RpcRequest) {
    return this.policies.apply(parseOrThrow(applyPolicyRequestSchema, request?.payload, 'payload') as { yaml: string } | { policy: unknown }, commandMetadata());
  }

  @MessagePattern(subjects.qry.monitoring.getPolicy)
  getRpc(@Payload() request: RpcRequest) {
    return this.policies.get(parseOrThrow(getRegisteredModelSchema, request?.payload, 'payload').name);
  }
}
