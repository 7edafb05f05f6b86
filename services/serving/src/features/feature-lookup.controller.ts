import { Body, Controller, HttpCode, Inject, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { onlineFeaturesRequestSchema, parseOrThrow, subjects, type OnlineFeaturesResponse } from '@mlp/contracts';
import { MLP_CLIENT, type MlpClient } from '@mlp/messaging';
import { RequireScopes, ZodBody } from '@mlp/service-kit';

/**
 * Online features as serving sees them: fetched from the feature store over
 * the transport (NATS in distributed mode), the path inference requests that
 * carry only entity keys will take.
 */
@ApiTags('features')
@Controller('v1/online-features')
export class FeatureLookupController {
  constructor(@Inject(MLP_CLIENT) private readonly client: MlpClient) {}

  @Post()
  @RequireScopes('read')
  @HttpCode(200)
  @ApiOperation({ summary: 'Look up online features through the feature store' })
  @ZodBody(onlineFeaturesRequestSchema)
  lookup(@Body() body: unknown): Promise<OnlineFeaturesResponse> {
    const request = parseOrThrow(onlineFeaturesRequestSchema, body, 'request');
    return this.client.send<OnlineFeaturesResponse>(subjects.qry.featureStore.getOnlineFeatures, request);
  }
}
