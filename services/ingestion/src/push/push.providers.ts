import type { Provider, Type } from '@nestjs/common';
import { loadPushConfig, PUSH_CONFIG } from './push-config';
import { PushController } from './push.controller';
import { PushService } from './push.service';

/** What IngestionModule registers for HTTP push. */
export const pushControllers: Type<unknown>[] = [PushController];
export const pushProviders: Provider[] = [{ provide: PUSH_CONFIG, useFactory: () => loadPushConfig() }, PushService];
