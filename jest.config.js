/** One Jest run for unit, integration and end-to-end tests (CONVENTIONS 13). */
const swc = [
  '@swc/jest',
  {
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs' },
  },
];
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.(t|j)s$': swc },
  transformIgnorePatterns: ['/node_modules/(?!(jose|@noble)/)'],
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  // Short by default so a hang fails fast; end-to-end and browser suites get 60 s
  // (test/suite-timeouts.ts).
  testTimeout: 15000,
  setupFilesAfterEnv: ['<rootDir>/test/suite-timeouts.ts'],
  maxWorkers: 2,
  // Longest suites first, so that none runs alone at the end (test/sequencer.js).
  testSequencer: '<rootDir>/test/sequencer.js',
};
