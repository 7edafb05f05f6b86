module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'duckdb',
  rootDir: __dirname,
};
