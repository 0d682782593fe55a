// Jest runs the TypeScript sources as native ESM through @swc/jest
// (package.json's test script sets NODE_OPTIONS=--experimental-vm-modules).
/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', {
      jsc: { target: 'es2022', parser: { syntax: 'typescript' } },
      module: { type: 'es6' },
    }],
  },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  globalSetup: '<rootDir>/test/support/global-setup.mjs',
  globalTeardown: '<rootDir>/test/support/global-teardown.mjs',
  testTimeout: 60000,
  maxWorkers: 2,
  // Agenda 6 keeps an un-unref'd liveness timer (lockLifetime / 2, five
  // minutes) for every job it ran, even after agenda.stop(); without this the
  // run would idle that long after the last test. Every gateway a test starts
  // is still stopped in its afterAll, so leaks of our own show up in those.
  forceExit: true,
};
