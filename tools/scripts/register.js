// Runs the TypeScript sources directly (npm start, the CLI, benches):
// resolves the @mlp/* aliases of tsconfig.base.json, then lets
// @swc-node/register compile .ts on the fly (with decorator metadata).
const Module = require('node:module');
const path = require('node:path');
const { compilerOptions } = require('../../tsconfig.base.json');

const root = path.join(__dirname, '..', '..');
const aliases = new Map(Object.entries(compilerOptions.paths).map(([alias, [target]]) => [alias, path.join(root, target)]));
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  const target = aliases.get(request);
  return resolve.call(this, target ?? request, ...rest);
};

process.env.SWC_NODE_PROJECT ??= path.join(root, 'tsconfig.base.json');
require('@swc-node/register');
