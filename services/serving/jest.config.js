module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'serving',
  rootDir: __dirname,
};
