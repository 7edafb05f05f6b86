import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { Controller, Get, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { NotFoundError } from '@mlp/contracts';
import { Public } from '@mlp/service-kit';

interface Asset {
  body: Buffer;
  type: string;
}

/** The page's files: its own, and uPlot's from node_modules. Nothing else can be named. */
const FILES: Record<string, { path: () => string; type: string }> = {
  'index.html': { path: () => join(__dirname, 'assets/index.html'), type: 'text/html; charset=utf-8' },
  'app.js': { path: () => join(__dirname, 'assets/app.js'), type: 'text/javascript; charset=utf-8' },
  'app.css': { path: () => join(__dirname, 'assets/app.css'), type: 'text/css; charset=utf-8' },
  'uplot.js': { path: () => require.resolve('uplot/dist/uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
  'uplot.css': { path: () => require.resolve('uplot/dist/uPlot.min.css'), type: 'text/css; charset=utf-8' },
};

/** Everything comes from this origin: the page works offline and loads nothing from the internet. */
const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/**
 * The pipeline dashboard at `/`: one static page (vanilla JS + uPlot) that
 * reads the services' public APIs through `/api/<service>/…` and follows
 * the event log live through `/events/live`.
 */
@ApiExcludeController()
@Controller()
export class DashboardController {
  private readonly cache = new Map<string, Asset>();

  @Get()
  @Public()
  index(@Res() res: ServerResponse): void {
    this.send(res, 'index.html');
  }

  @Get('dashboard/:file')
  @Public()
  asset(@Param('file') file: string, @Res() res: ServerResponse): void {
    if (!Object.hasOwn(FILES, file) || file === 'index.html') throw new NotFoundError(`no dashboard file '${file}'`);
    this.send(res, file);
  }

  private send(res: ServerResponse, file: string): void {
    let asset = this.cache.get(file);
    if (!asset) {
      asset = { body: readFileSync(FILES[file].path()), type: FILES[file].type };
      this.cache.set(file, asset);
    }
    res.writeHead(200, {
      'content-type': asset.type,
      'content-length': asset.body.length,
      'cache-control': 'no-cache',
      'content-security-policy': CSP,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    });
    res.end(asset.body);
  }
}
