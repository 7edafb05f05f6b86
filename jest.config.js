// Root jest config: every project's jest.config.js, run as one multi-project
// jest so `npm test` yields a single JSON result (see tools/scripts/test.mjs).
const fs = require('node:fs');
const path = require('node:path');

const roots = ['libs', 'services', 'tools', 'e2e', 'deploy'];
const projects = [];
for (const root of roots) {
  const dir = path.join(__dirname, root);
  if (!fs.existsSync(dir)) continue;
  if (fs.existsSync(path.join(dir, 'jest.config.js'))) projects.push(`<rootDir>/${root}`);
  for (const name of fs.readdirSync(dir)) {
    if (fs.existsSync(path.join(dir, name, 'jest.config.js'))) projects.push(`<rootDir>/${root}/${name}`);
  }
}

module.exports = { projects };
