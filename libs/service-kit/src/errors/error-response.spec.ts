import { BadRequestException, NotFoundException, PayloadTooLargeException, InternalServerErrorException } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import {
  ConcurrencyError,
  DomainError,
  ForbiddenError,
  IllegalStateError,
  InfrastructureError,
  NotFoundError,
  PayloadTooLargeError,
  UnauthorizedError,
  ValidationError,
} from '@mlp/contracts';
import { INTERNAL_ERROR_BODY, toErrorResponse } from './error-response';

describe('toErrorResponse', () => {
  it.each([
    [new ValidationError('bad', [{ path: 'a', message: 'required' }]), 400],
    [new UnauthorizedError(), 401],
    [new ForbiddenError('not under a root', { code: 'SOURCE_NOT_ALLOWED' }), 403],
    [new NotFoundError('nope'), 404],
    [new IllegalStateError('not now'), 409],
    [new ConcurrencyError('raced'), 412],
    [new InfrastructureError('db down', { cause: new Error('ECONNREFUSED') }), 503],
    [new DomainError('rule broken', { code: 'RULE' }), 400],
  ])('maps %p to %i with its payload', (error, status) => {
    expect(toErrorResponse(error)).toEqual({ status, body: error.toPayload(), internal: false });
  });

  it('keeps validation details', () => {
    const { body } = toErrorResponse(new ValidationError('bad', [{ path: 'a.b', message: 'required' }]));
    expect(body).toEqual({ code: 'VALIDATION_FAILED', name: 'ValidationError', message: 'bad', details: [{ path: 'a.b', message: 'required' }] });
  });

  it('maps Nest HttpExceptions to the same shape', () => {
    expect(toErrorResponse(new NotFoundException('Cannot GET /x'))).toEqual({
      status: 404,
      body: { code: 'NOT_FOUND', name: 'NotFoundError', message: 'Cannot GET /x' },
      internal: false,
    });
    expect(toErrorResponse(new BadRequestException(['a must be a string']))).toMatchObject({
      status: 400,
      body: { code: 'BAD_REQUEST', name: 'ValidationError', details: [{ path: '', message: 'a must be a string' }] },
    });
    expect(toErrorResponse(new PayloadTooLargeException()).body).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', name: 'PayloadTooLargeError' });
  });

  it('maps body-parser client errors by their status', () => {
    const tooLarge = Object.assign(new Error('request entity too large'), { status: 413, expose: true, type: 'entity.too.large' });
    expect(toErrorResponse(tooLarge)).toMatchObject({ status: 413, body: { code: 'PAYLOAD_TOO_LARGE' } });
    const overLimit = Object.assign(new Error('request entity too large'), { status: 413, expose: true, type: 'entity.too.large', limit: 1024 });
    expect(toErrorResponse(overLimit)).toMatchObject({
      status: 413,
      body: { code: 'PAYLOAD_TOO_LARGE', name: 'PayloadTooLargeError', message: 'request body larger than 1024 bytes (MLP_MAX_BODY_BYTES)' },
    });
  });

  it('maps a PayloadTooLargeError to 413', () => {
    expect(toErrorResponse(new PayloadTooLargeError('too big'))).toEqual({
      status: 413,
      body: { code: 'PAYLOAD_TOO_LARGE', name: 'PayloadTooLargeError', message: 'too big' },
      internal: false,
    });
  });

  it('hides everything else behind a generic 500', () => {
    const secret = Object.assign(new Error('secret internals'), { status: 500, expose: false });
    for (const error of [new Error('secret internals'), secret, new InternalServerErrorException('secret internals'), 'boom', null]) {
      expect(toErrorResponse(error)).toEqual({ status: 500, body: INTERNAL_ERROR_BODY, internal: true });
    }
    // a remote's internal error, rebuilt by MlpClient, stays internal
    expect(toErrorResponse(new DomainError('internal error', { code: 'INTERNAL' })).status).toBe(500);
  });

  it('reads RpcException payloads', () => {
    expect(toErrorResponse(new RpcException(new NotFoundError('gone').toPayload()))).toMatchObject({
      status: 404,
      body: { name: 'NotFoundError', message: 'gone' },
    });
  });
});
