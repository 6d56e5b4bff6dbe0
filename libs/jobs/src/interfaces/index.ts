export * from './job-handler.interface';
export * from './job-options.interface';
export * from './backoff.interface';
export * from './account-resolver.interface';
export * from './jobs-module-options.interface';
export * from './job-record.interface';
export * from './recurring-options.interface';
export * from './job-invoker.interface';
