import type { IncomingMessage, ServerResponse } from 'node:http';
import { Catch, type ArgumentsHost, type ExceptionFilter, type HttpServer } from '@nestjs/common';
import { throwError, type Observable } from 'rxjs';
import type { ErrorPayload } from '@mlp/contracts';
import { currentContext, runWithContext } from '@mlp/messaging';
import { rpcRequestContext } from '../correlation/rpc-context.interceptor';
import { bodyUnread } from '../http/request-body';
import type { Logger } from '../logging/logger';
import { toErrorResponse, type ErrorResponse } from './error-response';

/**
 * The one error filter, for HTTP and RPC: HTTP gets the status and the standard
 * body; RPC gets the body as the error reply, which MlpClient turns back into
 * the DomainError. Unexpected errors are logged with their stack, never sent.
 */
@Catch()
export class MlpExceptionFilter implements ExceptionFilter {
  constructor(
    private readonly logger: Logger,
    private readonly httpAdapter: HttpServer,
    private readonly service: string,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): Observable<ErrorPayload> | void {
    const response = toErrorResponse(exception);
    if (host.getType() === 'rpc') {
      const rpc = host.switchToRpc().getContext<{ getSubject?(): string; getPattern?(): string } | undefined>();
      const log = () => this.log(exception, response, rpc?.getSubject?.() ?? rpc?.getPattern?.());
      if (currentContext()) log();
      else runWithContext(rpcRequestContext(host.switchToRpc().getData(), this.service), log);
      return throwError(() => response.body);
    }
    const http = host.switchToHttp();
    const res = http.getResponse<ServerResponse>();
    const req = http.getRequest<IncomingMessage | undefined>();
    this.log(exception, response, req ? `${req.method} ${req.url}` : undefined);
    if (this.httpAdapter.isHeadersSent(res)) {
      this.httpAdapter.end(res);
      return;
    }
    // Answered before the body was read (401 on an upload, 413 over a limit): close rather than drain the rest.
    if (req && bodyUnread(req)) res.setHeader('connection', 'close');
    this.httpAdapter.reply(res, response.body, response.status);
  }

  private log(exception: unknown, response: ErrorResponse, target?: string): void {
    const fields = { err: exception, status: response.status, code: response.body.code, target };
    if (response.internal) this.logger.error(fields, 'unexpected error');
    else if (response.status >= 500) this.logger.warn(fields, response.body.message);
    else this.logger.debug({ status: response.status, code: response.body.code, target }, response.body.message);
  }
}
