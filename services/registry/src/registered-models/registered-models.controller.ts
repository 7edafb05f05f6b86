import { Body, Controller, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  createRegisteredModelSchema,
  describeRegisteredModelSchema,
  getRegisteredModelSchema,
  parseOrThrow,
  subjects,
  tagRegisteredModelSchema,
  type RegisteredModelView,
  type RpcRequest,
} from '@mlp/contracts';
import { commandMetadata, ZodBody } from '@mlp/service-kit';
import { RegisteredModelsService } from './registered-models.service';

/** Registered models over HTTP and NATS: both paths validate and run the same command. */
@ApiTags('registered models')
@Controller('models')
export class RegisteredModelsController {
  constructor(private readonly models: RegisteredModelsService) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a registered model' })
  @ZodBody(createRegisteredModelSchema)
  create(@Body() body: unknown): Promise<RegisteredModelView> {
    return this.createModel(body);
  }

  @Get()
  @ApiOperation({ summary: 'List registered models' })
  list(): { models: RegisteredModelView[] } {
    return { models: this.models.list() };
  }

  @Get(':name')
  @ApiOperation({ summary: 'Get a registered model' })
  get(@Param('name') name: string): RegisteredModelView {
    return this.models.get(parseOrThrow(getRegisteredModelSchema, { name }, 'path').name);
  }

  @Patch(':name')
  @ApiOperation({ summary: 'Change the description' })
  @ZodBody(describeRegisteredModelSchema.omit({ name: true }))
  describe(@Param('name') name: string, @Body() body: unknown): Promise<RegisteredModelView> {
    const dto = parseOrThrow(describeRegisteredModelSchema, { ...asObject(body), name }, 'request');
    return this.models.execute({ type: 'DescribeRegisteredModel', ...dto }, commandMetadata());
  }

  @Post(':name/tags')
  @HttpCode(200)
  @ApiOperation({ summary: 'Set and remove tags' })
  tag(@Param('name') name: string, @Body() body: unknown): Promise<RegisteredModelView> {
    return this.tagModel({ ...asObject(body), name });
  }

  @MessagePattern(subjects.cmd.registry.createModel)
  createRpc(@Payload() request: RpcRequest): Promise<RegisteredModelView> {
    return this.createModel(request?.payload);
  }

  @MessagePattern(subjects.cmd.registry.describeModel)
  describeRpc(@Payload() request: RpcRequest): Promise<RegisteredModelView> {
    const dto = parseOrThrow(describeRegisteredModelSchema, request?.payload, 'payload');
    return this.models.execute({ type: 'DescribeRegisteredModel', ...dto }, commandMetadata());
  }

  @MessagePattern(subjects.cmd.registry.tagModel)
  tagRpc(@Payload() request: RpcRequest): Promise<RegisteredModelView> {
    return this.tagModel(request?.payload);
  }

  @MessagePattern(subjects.qry.registry.getModel)
  getRpc(@Payload() request: RpcRequest): RegisteredModelView {
    return this.models.get(parseOrThrow(getRegisteredModelSchema, request?.payload, 'payload').name);
  }

  @MessagePattern(subjects.qry.registry.listModels)
  listRpc(): { models: RegisteredModelView[] } {
    return { models: this.models.list() };
  }

  private createModel(input: unknown): Promise<RegisteredModelView> {
    const dto = parseOrThrow(createRegisteredModelSchema, input, 'request');
    return this.models.execute({ type: 'CreateRegisteredModel', ...dto }, commandMetadata());
  }

  private tagModel(input: unknown): Promise<RegisteredModelView> {
    const dto = parseOrThrow(tagRegisteredModelSchema, input, 'request');
    return this.models.execute({ type: 'TagRegisteredModel', name: dto.name, set: dto.set, remove: dto.remove }, commandMetadata());
  }
}

function asObject(body: unknown): Record<string, unknown> {
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
}
