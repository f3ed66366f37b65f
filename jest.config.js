const { createDefaultPreset } = require('ts-jest')

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  ...createDefaultPreset(),
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  testTimeout: 60000,
  maxWorkers: 2,
  globalSetup: '<rootDir>/test/globalSetup.js',
}
