/**
 * dependency-cruiser rules for the library, run by `npm run lint`: no import cycles (type-only imports
 * included), and arrows between folders that point one way (ARCHITECTURE.md §2).
 */
const src = '^libs/jobs/src';

/** A rule forbidding `from` folders to import `to` folders. */
function forbid(name, comment, from, to) {
  return { name, comment, severity: 'error', from: { path: from }, to: { path: to } };
}

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'Import cycles make load order fragile and the layers unreadable: point the arrow one way.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'leaves-import-no-folder',
      comment: 'interfaces/ and errors/ are leaves: every other folder may import them, they import none.',
      severity: 'error',
      from: { path: `${src}/(interfaces|errors)/` },
      to: { path: `${src}/`, pathNot: `${src}/$1/` },
    },
    {
      name: 'cron-is-a-leaf',
      comment: 'cron/ is fire-time arithmetic (and the lazy @nestjs/schedule loader): errors and types only.',
      severity: 'error',
      from: { path: `${src}/cron/` },
      to: { path: `${src}/`, pathNot: `${src}/(cron|errors|interfaces)/` },
    },
    {
      name: 'root-options-below-everything',
      comment:
        'Options and constants at the root are read by every folder: they import leaves only (and the pure checks of values/).',
      severity: 'error',
      from: { path: `${src}/(jobs-options|jobs\\.constants|jobs\\.internal-constants)\\.ts$` },
      to: { path: `${src}/`, pathNot: `${src}/(errors|interfaces|values)/` },
    },
    forbid(
      'foundations-below-the-queue',
      'discovery/, tenancy/, payload/ and decorators/ serve the queue and the worker, never the reverse.',
      `${src}/(discovery|tenancy|payload|decorators)/`,
      `${src}/(queue|scheduling|worker|testing|persistence)/`,
    ),
    forbid(
      'persistence-below-its-users',
      'queue, scheduling and worker use persistence/; it owns the SQL and knows none of them.',
      `${src}/persistence/`,
      `${src}/(queue|scheduling|worker|testing|tenancy|discovery|decorators)/`,
    ),
    forbid(
      'queue-below-scheduling',
      'scheduling enqueues through the queue; the queue reaches ticks through its JobStore.',
      `${src}/queue/`,
      `${src}/(scheduling|testing)/`,
    ),
    forbid(
      'worker-below-queue-and-scheduling',
      'The worker performs rows; it never enqueues or schedules (the queue uses its runner for performNow).',
      `${src}/worker/`,
      `${src}/(queue|scheduling|testing)/`,
    ),
    forbid(
      'scheduling-not-worker',
      'Recurring schedules enqueue; they never reach into the worker.',
      `${src}/scheduling/`,
      `${src}/(worker|testing)/`,
    ),
    forbid(
      'dashboard-uses-the-public-layers',
      'dashboard/ reads through queue/, persistence/, scheduling/ and the leaves; never the worker or discovery.',
      `${src}/dashboard/`,
      `${src}/(worker|discovery|tenancy|payload|decorators|cron|testing)/`,
    ),
    {
      name: 'only-index-imports-dashboard',
      comment: 'The dashboard is an add-on: nothing but the package index imports it.',
      severity: 'error',
      from: { path: `${src}/`, pathNot: [`${src}/dashboard/`, `${src}/index\\.ts$`] },
      to: { path: `${src}/dashboard/` },
    },
    {
      name: 'testing-is-imported-by-tests-only',
      comment: 'testing/ stands in for the database in tests: production code never imports it.',
      severity: 'error',
      from: { path: `${src}/`, pathNot: `${src}/testing/` },
      to: { path: `${src}/testing/` },
    },
    forbid(
      'observability-below-queue-and-worker',
      'queue/ and worker/ report to observability/ (one port); it reads persistence/ and the leaves, never them.',
      `${src}/observability/`,
      `${src}/(queue|scheduling|worker|testing|tenancy|discovery|payload|decorators)/`,
    ),
    forbid(
      'persistence-knows-no-observability',
      'observability/ reads through persistence/, not the reverse.',
      `${src}/(persistence|interfaces|errors|values|cron)/`,
      `${src}/observability/`,
    ),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['node_modules', 'dist'] },
    // Type-only imports count: a cycle of types is still a cycle for the reader.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'] },
  },
};
