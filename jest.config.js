/** Two projects: fast unit specs beside the code, and end-to-end suites against real PostgreSQL. */
const common = {
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: {
    '^nestjs-tenant-jobs$': '<rootDir>/libs/jobs/src',
    '^nestjs-tenant-jobs/(.*)$': '<rootDir>/libs/jobs/src/$1',
  },
  testEnvironment: 'node',
  // dist/package (npm run build:package) holds a second package.json named nestjs-tenant-jobs.
  modulePathIgnorePatterns: ['<rootDir>/dist/'],
};

module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/libs/**/*.spec.ts', '<rootDir>/apps/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
      // Fails a suite that leaves an app, timer, socket or child process open (see the file).
      testEnvironment: '<rootDir>/test/support/leak-check.environment.js',
    },
  ],
};
