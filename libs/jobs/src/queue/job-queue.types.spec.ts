import { IsInt } from 'class-validator';
import { Job } from '../decorators/job.decorator';
import type { JobHandler } from '../interfaces';
import type { JobQueueService } from './job-queue.service';

/*
 * Compile-time contract: the payload type flows from the job class to the enqueue calls. ts-jest type-checks
 * this file, so each `@ts-expect-error` below fails the suite if the wrong call ever compiles.
 */

class CountPayload {
  @IsInt() n: number;
}

@Job({ name: 'types.count' })
class CountJob implements JobHandler<CountPayload, string> {
  constructor(private readonly suffix: string) {}
  perform(payload: CountPayload): string {
    return `${payload.n}${this.suffix}`;
  }
}

async function usages(queue: JobQueueService): Promise<string> {
  await queue.performLater(CountJob, { n: 1 });
  // @ts-expect-error a field of the wrong type
  await queue.performLater(CountJob, { n: 'one' });
  // @ts-expect-error a missing field
  await queue.performLater(CountJob, {});
  await queue.performAllLater(CountJob, [{ payload: { n: 1 }, delayMs: 10 }]);
  // @ts-expect-error a wrong bulk payload
  await queue.performAllLater(CountJob, [{ payload: { m: 1 } }]);
  const result: string = await queue.performNow(CountJob, { n: 2 });
  // @ts-expect-error performNow's result type is the handler's
  const wrong: number = await queue.performNow(CountJob, { n: 2 });
  return result + String(wrong);
}

describe('JobQueueService types', () => {
  it('infers payload and result types from the job class', () => {
    expect(usages).toBeInstanceOf(Function);
  });
});
