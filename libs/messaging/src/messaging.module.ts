import { Module, type DynamicModule } from '@nestjs/common';
import type { ServiceName } from '@mlp/contracts';
import type { MessagingConfig } from './messaging-config';
import { MLP_CLIENT, MlpClient } from './mlp-client';

/**
 * Registers the MlpClient of one service (global within its Nest app, so
 * feature modules inject it without importing this module again). Closing the
 * app closes the client.
 */
@Module({})
export class MessagingModule {
  static forService(service: ServiceName, config: MessagingConfig): DynamicModule {
    return {
      module: MessagingModule,
      global: true,
      providers: [
        { provide: MLP_CLIENT, useFactory: () => new MlpClient(config, service) },
        { provide: MlpClient, useExisting: MLP_CLIENT },
      ],
      exports: [MLP_CLIENT, MlpClient],
    };
  }
}
