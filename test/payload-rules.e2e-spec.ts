/*
 * The payload-rule fingerprint (issue 16, item 2): a payload validated at enqueue is not validated again
 * at perform while its class's rules are the ones it was enqueued under, and is validated again when they
 * changed (a deploy) or were never recorded (rows from before). Each app here is a "deploy": it is closed
 * and another one, with the same or another payload class under the same job name, performs the rows.
 */
import { Type } from 'class-transformer';
import * as classValidator from 'class-validator';
import { IsInt, IsString, Max, ValidateNested } from 'class-validator';
import { TestingModule } from '@nestjs/testing';
import {
  InvalidPayloadError,
  Job,
  JobHandler,
  JobQueueService,
  JobRecord,
} from 'nestjs-tenant-jobs';
import { createTestDatabase, TestDatabase, withClient } from './support/database';
import { createJobsApp } from './support/jobs-app';
import { waitForJobState } from './support/jobs';

const NAME = 'rules.order';

/** What the handlers received, in order. */
const received: unknown[] = [];

class Line {
  @IsString() sku!: string;
  label(): string {
    return `line ${this.sku}`;
  }
}

/** Rules A: any integer quantity, lines of class Line. */
class OrderA {
  @IsInt() qty!: number;
  @ValidateNested({ each: true }) @Type(() => Line) lines?: Line[] = [];
}

/** Rules B, a later deploy: at most 5. */
class OrderB {
  @IsInt() @Max(5) qty!: number;
  @ValidateNested({ each: true }) @Type(() => Line) lines?: Line[] = [];
}

/** A flat class (no class-transformer metadata): the worker copies its payload without class-transformer. */
class Flat {
  @IsInt() qty!: number;
  unit?: string = 'pcs';
}

@Job({ name: NAME, tenant: 'none', payload: OrderA, maxAttempts: 1 })
class OrderJobA implements JobHandler<OrderA> {
  perform(payload: OrderA): void {
    received.push(payload);
  }
}

@Job({ name: NAME, tenant: 'none', payload: OrderB, maxAttempts: 1 })
class OrderJobB implements JobHandler<OrderB> {
  perform(payload: OrderB): void {
    received.push(payload);
  }
}

@Job({ name: 'rules.flat', tenant: 'none', payload: Flat, maxAttempts: 1 })
class FlatJob implements JobHandler<Flat> {
  perform(payload: Flat): void {
    received.push(payload);
  }
}

describe('payload-rule fingerprint', () => {
  let db: TestDatabase;
  let app: TestingModule | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
    received.length = 0;
    jest.restoreAllMocks();
    await withClient(db.url, (c) => c.query('truncate jobs.jobs'));
  });

  afterAll(async () => {
    await db?.drop();
  });

  /** A deploy: an app with these jobs, its worker on or off. */
  async function deploy(providers: unknown[], worker: boolean): Promise<JobQueueService> {
    await app?.close();
    app = await createJobsApp({
      url: db.url,
      providers: providers as never[],
      jobs: { worker: { enabled: worker } },
    });
    return app.get(JobQueueService);
  }

  async function storedRules(id: string): Promise<string | null> {
    return withClient(db.url, async (c) => {
      const { rows } = await c.query<{ r: string | null }>(
        'select payload_rules as r from jobs.jobs where id = $1',
        [id],
      );
      return rows[0].r;
    });
  }

  it('records the fingerprint with the row; a worker with the same rules performs an instance without validating', async () => {
    let jobs = await deploy([OrderJobA], false);
    const id = await jobs.performLater(OrderJobA, { qty: 9, lines: [{ sku: 'a' }] } as OrderA); // plain lines
    expect(await storedRules(id)).toMatch(/^[\w-]{16}$/);

    // The same class in the next deploy: the validator is not called for the stored payload.
    jobs = await deploy([OrderJobA], true);
    const validate = jest.spyOn(classValidator, 'validate');
    await waitForJobState(jobs, id, 'completed');
    expect(validate).not.toHaveBeenCalled();
    expect(received).toHaveLength(1);
    const payload = received[0] as OrderA;
    expect(payload).toBeInstanceOf(OrderA);
    expect(payload.qty).toBe(9);
    expect(payload.lines?.[0]).toBeInstanceOf(Line);
    expect(payload.lines?.[0].label()).toBe('line a');
  });

  it('a flat payload class gets an instance too, its field defaults applied, without the validator', async () => {
    const jobs = await deploy([FlatJob], true);
    const validate = jest.spyOn(classValidator, 'validate');
    const id = await jobs.performLater(FlatJob, { qty: 2 });
    expect(validate).toHaveBeenCalledTimes(1); // at enqueue
    await waitForJobState(jobs, id, 'completed');
    expect(validate).toHaveBeenCalledTimes(1);
    expect(received[0]).toBeInstanceOf(Flat);
    expect(received[0]).toEqual(Object.assign(new Flat(), { qty: 2 }));
  });

  it('validates again after a deploy made the rules stricter: the payload that no longer passes fails as invalid', async () => {
    let jobs = await deploy([OrderJobA], false);
    const tooMany = await jobs.performLater(OrderJobA, { qty: 9 });
    const fine = await jobs.performLater(OrderJobA, { qty: 3 });

    jobs = await deploy([OrderJobB], true);
    const validate = jest.spyOn(classValidator, 'validate');
    const failed: JobRecord = await waitForJobState(jobs, tooMany, 'failed');
    expect(failed.lastError).toMatchObject({ name: InvalidPayloadError.name });
    expect(failed.lastError?.message).toContain('qty');
    await waitForJobState(jobs, fine, 'completed');
    expect(validate).toHaveBeenCalledTimes(2);
    expect(received).toHaveLength(1);
    expect(received[0]).toBeInstanceOf(OrderB);
  });

  it('validates rows without a fingerprint (enqueued before it was recorded)', async () => {
    let jobs = await deploy([OrderJobA], false);
    const invalid = await jobs.performLater(OrderJobA, { qty: 1 });
    const valid = await jobs.performLater(OrderJobA, { qty: 2 });
    await withClient(db.url, async (c) => {
      await c.query('update jobs.jobs set payload_rules = null');
      // What an older version could have stored and a newer class refuses.
      await c.query(`update jobs.jobs set payload = '{"qty":"one"}' where id = $1`, [invalid]);
    });

    jobs = await deploy([OrderJobA], true);
    const validate = jest.spyOn(classValidator, 'validate');
    const failed = await waitForJobState(jobs, invalid, 'failed');
    expect(failed.lastError).toMatchObject({ name: InvalidPayloadError.name });
    await waitForJobState(jobs, valid, 'completed');
    expect(validate).toHaveBeenCalledTimes(2);
    expect(received).toEqual([expect.any(OrderA)]);
  });

  it('still refuses hostile and invalid payloads at enqueue, writing nothing', async () => {
    const jobs = await deploy([OrderJobA, FlatJob], false);
    const cyclic: Record<string, unknown> = { qty: 1 };
    cyclic.self = cyclic;
    // Refused whatever the class: not storable as the worker would read it back, or not an object.
    const hostile: unknown[] = [
      { qty: 1, lines: [{ sku: 'a\u0000b' }] },
      { qty: 1, lines: [{ sku: '\ud800' }] },
      { qty: Infinity },
      cyclic,
      {
        get qty(): number {
          throw new Error('getter');
        },
      },
      null,
      [],
    ];
    // Refused by OrderA's rules.
    const invalid: unknown[] = [{ qty: 'x' }, { qty: 1.5 }, { qty: 1, lines: [{ sku: 7 }] }];
    for (const payload of [...hostile, ...invalid]) {
      await expect(jobs.performLater(OrderJobA, payload as OrderA)).rejects.toBeInstanceOf(
        InvalidPayloadError,
      );
    }
    for (const payload of [...hostile, { qty: 'x' }]) {
      await expect(jobs.performLater(FlatJob, payload as Flat)).rejects.toBeInstanceOf(
        InvalidPayloadError,
      );
    }
    const count = await withClient(db.url, async (c) => {
      const { rows } = await c.query<{ n: string }>('select count(*) as n from jobs.jobs');
      return Number(rows[0].n);
    });
    expect(count).toBe(0);
  });
});
