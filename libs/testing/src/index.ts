export * from './nats-server';
export * from './s3-server';
export * from './decider-spec';
export * from './free-port';
export * from './processes';
export * from './distributed-platform';
export * from './v2-grpc-client';
export * from './penguins.fixture';
