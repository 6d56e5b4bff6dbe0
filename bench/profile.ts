/**
 * `npm run bench:profile`: where our worker spends its CPU while it drains a backlog. Prefills N no-op jobs
 * (the drain phase's job, tenant context and payload validation on) into a scratch database, drains them in
 * this process under the V8 sampling profiler, and prints the functions with the most self time, grouped
 * by package, plus the drain rate. Not a benchmark figure (the profiler slows everything down a little);
 * it shows what to work on. Also prints the library's statements (calls, rows, time; see --diagnose).
 *
 *   --jobs N        backlog size (default 100,000)
 *   --top N         functions to list (default 40)
 *   --out FILE      also write the .cpuprofile (open it in Chrome DevTools)
 */
import './support/paths';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createScratchDatabase } from './support/database';
import { instrumentOurs } from './support/diagnose';
import { OursSystem } from './systems/ours';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      jobs: { type: 'string', default: '100000' },
      top: { type: 'string', default: '40' },
      out: { type: 'string' },
    },
  });
  const jobs = Number(values.jobs);
  const diagnostics = await instrumentOurs();
  const db = await createScratchDatabase(`bench_profile_${process.pid}`);
  const producer = new OursSystem();
  const worker = new OursSystem();
  try {
    const target = { databaseUrl: db.url, queueName: 'profile' };
    await producer.setup(target, { role: 'producer', concurrency: 10 });
    for (let start = 0; start < jobs; start += 1_000) {
      const batch = Array.from({ length: Math.min(1_000, jobs - start) }, (_, i) => start + i);
      await producer.enqueueBulk(batch);
    }
    await producer.teardown();
    await worker.setup(target, { role: 'worker', concurrency: 10 });

    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 100 });
    let done = 0;
    let finish!: () => void;
    const drained = new Promise<void>((resolve) => (finish = resolve));
    await session.post('Profiler.start');
    const started = performance.now();
    const cpuAtStart = process.cpuUsage();
    await worker.startWorkers(() => {
      if (++done === jobs) finish();
    });
    await drained;
    const elapsed = performance.now() - started;
    const cpu = process.cpuUsage(cpuAtStart);
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    await worker.stop();

    if (values.out) writeFileSync(values.out, JSON.stringify(profile));
    console.log(
      `${jobs} jobs in ${elapsed.toFixed(0)} ms: ${Math.round((jobs * 1000) / elapsed)} jobs/s, ` +
        `worker CPU ${((cpu.user + cpu.system) / 1000 / jobs).toFixed(4)} ms/job (profiler on)`,
    );
    console.log('\nStatements (calls, rows/call, ms/call):');
    for (const [name, st] of Object.entries(diagnostics.statements))
      console.log(
        `  ${name}: ${st.calls}, ${(st.rows / st.calls).toFixed(1)}, ${(st.ms / st.calls).toFixed(2)}`,
      );
    report(profile.nodes as ProfileNode[], Number(values.top));
  } finally {
    await worker.teardown();
    await producer.teardown();
    await db.drop();
  }
}

function report(nodes: ProfileNode[], top: number): void {
  const total = nodes.reduce((sum, n) => sum + (n.hitCount ?? 0), 0);
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  for (const node of nodes) {
    const hits = node.hitCount ?? 0;
    if (hits === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = shortUrl(url);
    const key = `${functionName || '(anonymous)'}  ${where}:${lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + hits);
    const pkg = packageOf(url, functionName);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + hits);
  }
  const pct = (hits: number) => `${((hits * 100) / total).toFixed(1).padStart(5)}%`;
  console.log('\nSelf time by package:');
  for (const [pkg, hits] of [...byPackage].sort((a, b) => b[1] - a[1]))
    console.log(`  ${pct(hits)}  ${pkg}`);
  console.log(`\nTop ${top} functions by self time:`);
  for (const [key, hits] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`  ${pct(hits)}  ${key}`);
}

function shortUrl(url: string): string {
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  const build = url.indexOf('/.work/build/');
  if (build >= 0) return url.slice(build + '/.work/build/'.length);
  return url.replace(/^file:\/\//, '');
}

function packageOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const parts = url.slice(nm + 'node_modules/'.length).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  if (url.includes('/libs/jobs/')) return 'nest-tenant-jobs (libs/jobs)';
  if (url.includes('/bench/')) return 'bench';
  if (url.startsWith('node:')) return 'node (internal)';
  return url;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
