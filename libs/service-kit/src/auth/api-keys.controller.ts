import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { createApiKeySchema, type ApiKeyView, type CreatedApiKey } from '@mlp/contracts';
import { ZodBody } from '../openapi/zod-body';
import { ApiKeysService } from './api-keys.service';
import { RequireScopes } from './require-scopes.decorator';

export const API_KEYS_SERVICE = Symbol('API_KEYS_SERVICE');

/** Key management on every service (they share the event store); needs `admin` when auth is on. */
@ApiTags('auth')
@Controller('auth/keys')
@RequireScopes('admin')
export class ApiKeysController {
  constructor(@Inject(API_KEYS_SERVICE) private readonly keys: ApiKeysService) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create an API key; the answer holds the token, shown this once only' })
  @ZodBody(createApiKeySchema)
  create(@Body() body: unknown): Promise<CreatedApiKey> {
    return this.keys.create(body);
  }

  @Get()
  @ApiOperation({ summary: 'List API keys (id, name, scopes, prefix, status; never a secret)' })
  list(): { keys: ApiKeyView[] } {
    return { keys: this.keys.list() };
  }

  @Get(':id')
  @ApiOperation({ summary: 'One API key' })
  get(@Param('id') id: string): Promise<ApiKeyView> {
    return this.keys.get(id);
  }

  @Delete(':id')
  @ApiOperation({ summary: 'Revoke an API key: every service refuses it from then on' })
  revoke(@Param('id') id: string): Promise<ApiKeyView> {
    return this.keys.revoke(id);
  }
}
