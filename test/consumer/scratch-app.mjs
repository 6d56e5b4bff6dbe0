/**
 * The files of a scratch app around the README's blocks, shaped like a fresh `nest new` project
 * (its tsconfig: `module: nodenext`, CommonJS output since package.json has no "type"; its jest
 * config: ts-jest, specs under src/), so what passes here passes in a user's new app.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Writes the app for `set` into `dir`: package.json, tsconfigs, the README's files, the ESM check. */
export function writeScratchApp(dir, set, tarball, readmeFiles) {
  const files = {
    'package.json': json({
      name: `nestjs-tenant-jobs-consumer-${set.id}`,
      version: '0.0.0',
      private: true,
      license: 'UNLICENSED',
      dependencies: { 'nestjs-tenant-jobs': `file:${tarball}`, ...set.dependencies },
      devDependencies: set.devDependencies,
      jest: {
        moduleFileExtensions: ['js', 'json', 'ts'],
        rootDir: 'src',
        testRegex: '.*\\.spec\\.ts$',
        transform: { '^.+\\.(t|j)s$': 'ts-jest' },
        testEnvironment: 'node',
      },
    }),
    'tsconfig.json': json({
      compilerOptions: {
        module: 'nodenext',
        moduleResolution: 'nodenext',
        resolvePackageJsonExports: true,
        esModuleInterop: true,
        isolatedModules: true,
        declaration: true,
        removeComments: true,
        emitDecoratorMetadata: true,
        experimentalDecorators: true,
        allowSyntheticDefaultImports: true,
        target: 'ES2023',
        sourceMap: true,
        outDir: './dist',
        baseUrl: './',
        incremental: true,
        skipLibCheck: true,
        strictNullChecks: true,
        forceConsistentCasingInFileNames: true,
        noImplicitAny: true,
        strictBindCallApply: true,
        noFallthroughCasesInSwitch: true,
      },
    }),
    'tsconfig.build.json': json({
      extends: './tsconfig.json',
      exclude: ['node_modules', 'test', 'dist', '**/*spec.ts'],
    }),
    'esm-check.mjs': ESM_CHECK,
    ...readmeFiles,
  };
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  chmodSync(dir, 0o755);
}

const json = (value) => `${JSON.stringify(value, null, 2)}\n`;

/**
 * Loads both entry points from an ES module, with static named imports (which need Node's detection of
 * the CommonJS exports to work) and with import(); and checks that the exports map keeps internals out.
 */
const ESM_CHECK = `import { Job, JobQueueService, JobsModule, jobsMigrations } from 'nestjs-tenant-jobs';
import { JobsTestHelper, JobsTestingModule, jobsMatchers } from 'nestjs-tenant-jobs/testing';

const main = await import('nestjs-tenant-jobs');
const testing = await import('nestjs-tenant-jobs/testing');
const values = {
  Job, JobQueueService, JobsModule, JobsTestHelper, JobsTestingModule,
  'import().JobsModule': main.JobsModule, 'import().JobQueueService': main.JobQueueService,
  'import("/testing").JobsTestingModule': testing.JobsTestingModule,
  'jobsMatchers.toHaveEnqueued': jobsMatchers.toHaveEnqueued,
};
for (const [name, value] of Object.entries(values)) {
  if (typeof value !== 'function') throw new Error(\`\${name} is \${typeof value}, expected a function\`);
}
if (!Array.isArray(jobsMigrations) || jobsMigrations.length === 0) throw new Error('jobsMigrations is empty');
const internal = await import('nestjs-tenant-jobs/persistence/jobs-database').then(
  () => 'resolved',
  (error) => error.code,
);
if (internal !== 'ERR_PACKAGE_PATH_NOT_EXPORTED') throw new Error(\`a deep import gave \${internal}\`);
console.log('ESM import of nestjs-tenant-jobs and nestjs-tenant-jobs/testing: ok');
`;
