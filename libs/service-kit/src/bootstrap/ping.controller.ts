import { Controller, type Type } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { subjects, type ServiceName } from '@mlp/contracts';

export interface PingReply {
  service: ServiceName;
  status: 'ok';
}

/** Every service answers `subjects.qry.ping(service)`: the transport half of readiness. */
export function pingControllerFor(service: ServiceName): Type<unknown> {
  @Controller()
  class PingController {
    @MessagePattern(subjects.qry.ping(service))
    ping(): PingReply {
      return { service, status: 'ok' };
    }
  }
  return PingController;
}
