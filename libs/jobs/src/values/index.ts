/*
 * The boundary checks: what PostgreSQL (and Node's timers) accept, as pure functions the queue, the
 * worker, the module options and the explorer call wherever a value enters. Internal: not exported from the
 * package's index.
 */
export * from './value-limits.constants';
export * from './value-description.util';
export * from './storable-text.check';
export * from './error-text.normalizer';
export * from './json-path.util';
export * from './json-replace.sanitizer';
export * from './storable-json.serializer';
export * from './numbers.check';
export * from './job-id.check';
export * from './run-at.check';
export * from './account-id.normalizer';
export * from './name.check';
export * from './flow-key.check';
