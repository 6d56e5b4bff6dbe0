/**
 * The names of the library's migrations for the default schema, oldest first, as the tests pin them: a
 * new migration is added here (and gets its undo test in migrations.e2e-spec.ts, newest first).
 */
export const JOBS_MIGRATION_NAMES: readonly string[] = [
  'CreateJobsTables1763800000000',
  'HotPathIndexes1763900000000',
  'FairClaimIndex1796126400000',
  'DashboardIndexes1796133600000',
  'PausedTable1796139000000',
  'ObservabilityColumns1796142600000',
  'StartMarks1796146200000',
  'FlowLimits1796150000000',
  'ParentJob1796153600000',
  'PayloadRulesColumn1796157200000',
  'DropUnstartedRescuedIndex1796160800000',
  'FairClaimIndexPredicate1796164400000',
];
