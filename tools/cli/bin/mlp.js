#!/usr/bin/env node
// The `mlp` command: runs the CLI's TypeScript sources.
require('../../scripts/register.js');
require('../src/main.ts');
