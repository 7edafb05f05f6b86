#!/usr/bin/env node
// build.mjs <project dir>...: compiles a service (and the libraries it runs on)
// with SWC into dist/, keeping the repo layout and rewriting the @mlp/*
// aliases to relative requires, so `node dist/services/<name>/src/main.js`
// runs with nothing but node_modules.
import { transformFile } from '@swc/core';
import { copyFileSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const tsconfig = JSON.parse((await import('node:fs')).readFileSync(join(root, 'tsconfig.base.json'), 'utf8'));
const targets = process.argv.slice(2);
if (targets.length === 0) {
  console.error('usage: build.mjs <project dir>... (e.g. services/registry)');
  process.exit(2);
}

function* sources(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name !== 'contract') yield* sources(path);
    } else if (name.endsWith('.ts') && !name.endsWith('.spec.ts') && !name.endsWith('.d.ts')) yield path;
  }
}

// Libraries are compiled whole (they are small); testing helpers never ship.
const dirs = [...targets, ...readdirSync(join(root, 'libs')).filter((l) => l !== 'testing').map((l) => `libs/${l}`)];
let count = 0;
for (const dir of dirs) {
  for (const file of sources(join(root, dir, 'src'))) {
    const out = join(root, 'dist', relative(root, file)).replace(/\.ts$/, '.js');
    const { code, map } = await transformFile(file, {
      sourceMaps: true,
      jsc: {
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true },
        target: 'es2022',
        baseUrl: root,
        paths: tsconfig.compilerOptions.paths,
      },
      module: { type: 'commonjs' },
    });
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${code}\n//# sourceMappingURL=${out.split('/').pop()}.map\n`);
    if (map) writeFileSync(`${out}.map`, map);
    count++;
  }
}
// Static files a service serves (the dashboard's page) ship beside its compiled code.
function* assets(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* name === 'assets' ? files(path) : assets(path);
  }
}
function* files(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else yield path;
  }
}
for (const dir of targets) {
  for (const file of assets(join(root, dir, 'src'))) {
    const out = join(root, 'dist', relative(root, file));
    mkdirSync(dirname(out), { recursive: true });
    copyFileSync(file, out);
    count++;
  }
}
console.log(`built ${count} files into dist/ (${targets.join(', ')})`);
