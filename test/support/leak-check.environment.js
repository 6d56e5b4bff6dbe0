/**
 * The e2e suites' test environment: Node's, plus a check after each suite file that it left nothing
 * behind. A suite fails ("Test suite failed to run") when, after all its hooks ran,
 * - an application it started is still open (see `open-apps.ts`: started through `startTestApp`,
 *   `createJobsApp` or `startExampleApp`), or
 * - a timer it (or a library it loaded) set is still pending and keeps the process alive, or it holds
 *   more sockets, servers or child processes than when it started, once they had a few seconds to close
 *   (a worker's heartbeat interval, a pool's connection, a chaos worker process).
 * Timers are followed by wrapping the suite realm's `setTimeout`/`setInterval` (jest's own timers are
 * not the suite's business); async_hooks would see them too, but slow every promise of the suite down.
 * Plain JavaScript: jest loads test environments without the TypeScript transform.
 */
const { TestEnvironment } = require('jest-environment-node');

const OPEN_APPS_KEY = '__JOBS_E2E_OPEN_APPS__';
/** `process.getActiveResourcesInfo()` types a jest worker holds none of unless a test opened them. */
const WATCHED = ['TCPSocketWrap', 'TCPServerWrap', 'ProcessWrap'];
const SETTLE_MS = 5_000;
/** Timers remembered before the fired and cleared ones are pruned. */
const PRUNE_AT = 10_000;

function resourceCounts() {
  const counts = new Map();
  for (const type of process.getActiveResourcesInfo()) {
    if (WATCHED.includes(type)) counts.set(type, (counts.get(type) ?? 0) + 1);
  }
  return counts;
}

/** A timer that has neither fired (one-shot) nor been cleared, and keeps the process alive. */
function pending(timer) {
  return timer._destroyed === false && timer.hasRef();
}

class LeakCheckEnvironment extends TestEnvironment {
  timers = new Set();

  async setup() {
    await super.setup();
    for (const name of ['setTimeout', 'setInterval']) {
      const real = this.global[name];
      const timers = this.timers;
      this.global[name] = Object.assign(function (...args) {
        const timer = real.apply(this, args);
        if (timers.size >= PRUNE_AT) for (const t of timers) if (t._destroyed) timers.delete(t);
        timers.add(timer);
        return timer;
      }, real);
    }
  }

  async handleTestEvent(event, state) {
    if (event.name === 'run_start') this.baseline = resourceCounts();
    if (event.name !== 'run_finish' || !this.baseline) return;
    const apps = this.global[OPEN_APPS_KEY];
    if (apps && apps.size > 0) {
      const labels = [...apps.values()];
      state.unhandledErrors.push(
        new Error(
          `${labels.length} application(s) left open by this suite: ${labels.join(', ')}. ` +
            'Close every app you start (afterEach/afterAll: `await app.close()`).',
        ),
      );
      await Promise.allSettled([...apps.keys()].map((app) => app.close()));
    }
    const deadline = Date.now() + SETTLE_MS;
    let left = this.leftOpen();
    while (left.length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      left = this.leftOpen();
    }
    if (left.length > 0) {
      state.unhandledErrors.push(
        new Error(
          `This suite left ${left.join(', ')} open (${SETTLE_MS} ms after its last hook): a worker, ` +
            'timer, pool or child process it started is still running. Close it in afterEach/afterAll.',
        ),
      );
    }
  }

  /** What the suite still holds, e.g. `['2 × timer', '1 × TCPSocketWrap']`. */
  leftOpen() {
    const left = [];
    const timers = [...this.timers].filter(pending).length;
    if (timers > 0) left.push(`${timers} × timer`);
    const now = resourceCounts();
    for (const type of WATCHED) {
      const extra = (now.get(type) ?? 0) - (this.baseline.get(type) ?? 0);
      if (extra > 0) left.push(`${extra} × ${type}`);
    }
    return left;
  }
}

module.exports = LeakCheckEnvironment;
