/**
 * The version sets the consumer test installs the packed tarball into, one scratch app each. They are
 * the README's compatibility table: change one, change the other. Ranges, not pins, so every run takes
 * the newest release of each major (what a user installing today gets); the test prints what it got.
 *
 * `node`: 'repo' is the Node.js 24 this repository pins (node_modules/node), 'system' the machine's own
 * (Node.js 20 here and in CI). `jestNodeOptions`: what the README's "Jest on Nest 12" note tells users.
 */

const tooling = {
  typescript: '~5.9.3',
  jest: '^30.0.0',
  'ts-jest': '^29.4.0',
  '@types/jest': '^30.0.0',
};

export const VERSION_SETS = [
  {
    id: 'a',
    title:
      'Nest 12, @nestjs/typeorm 12, TypeORM 1.x, nestjs-cls 6, class-validator 0.15, no @nestjs/schedule, Node.js 24',
    node: 'repo',
    nodeMajor: 24,
    jestNodeOptions: '--experimental-vm-modules',
    withoutSchedule: true,
    dependencies: {
      '@nestjs/common': '^12.0.0',
      '@nestjs/core': '^12.0.0',
      '@nestjs/platform-express': '^12.0.0',
      '@nestjs/typeorm': '^12.0.0',
      typeorm: '^1.0.0',
      pg: '^8.11.0',
      'nestjs-cls': '^6.3.0',
      'class-validator': '^0.15.0',
      'class-transformer': '^0.5.1',
      'reflect-metadata': '^0.2.0',
      rxjs: '^7.8.0',
    },
    devDependencies: { ...tooling, '@nestjs/testing': '^12.0.0', '@types/node': '^24.0.0' },
  },
  {
    id: 'b',
    title:
      'Nest 11, @nestjs/typeorm 11, TypeORM 0.3, nestjs-cls 5, class-validator 0.14, @nestjs/schedule 6, Node.js 20',
    node: 'system',
    nodeMajor: 20,
    jestNodeOptions: '',
    withoutSchedule: false,
    dependencies: {
      '@nestjs/common': '^11.0.0',
      '@nestjs/core': '^11.0.0',
      '@nestjs/platform-express': '^11.0.0',
      '@nestjs/typeorm': '^11.0.0',
      '@nestjs/schedule': '^6.0.0',
      typeorm: '^0.3.20',
      pg: '^8.11.0',
      'nestjs-cls': '^5.4.0',
      'class-validator': '^0.14.0',
      'class-transformer': '^0.5.1',
      'reflect-metadata': '^0.2.0',
      rxjs: '^7.8.0',
    },
    devDependencies: { ...tooling, '@nestjs/testing': '^11.0.0', '@types/node': '^20.0.0' },
  },
  {
    id: 'c',
    title:
      'Nest 11, @nestjs/typeorm 11, TypeORM 1.x, nestjs-cls 7, class-validator 0.15, no @nestjs/schedule, Node.js 24',
    node: 'repo',
    nodeMajor: 24,
    jestNodeOptions: '',
    withoutSchedule: true,
    dependencies: {
      '@nestjs/common': '^11.0.0',
      '@nestjs/core': '^11.0.0',
      '@nestjs/platform-express': '^11.0.0',
      '@nestjs/typeorm': '^11.0.0',
      typeorm: '^1.0.0',
      pg: '^8.11.0',
      'nestjs-cls': '^7.0.0',
      'class-validator': '^0.15.0',
      'class-transformer': '^0.5.1',
      'reflect-metadata': '^0.2.0',
      rxjs: '^7.8.0',
    },
    devDependencies: { ...tooling, '@nestjs/testing': '^11.0.0', '@types/node': '^24.0.0' },
  },
];
