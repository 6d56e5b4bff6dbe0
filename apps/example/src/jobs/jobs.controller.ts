import { Controller, Get, NotFoundException, Param, UseGuards } from '@nestjs/common';
import { JobQueueService, JobRecord } from 'nestjs-tenant-jobs';
import { RequireAccountGuard } from '../accounts/require-account.guard';

/** A job as the API shows it to its account. */
export type JobView = Pick<
  JobRecord,
  | 'id'
  | 'name'
  | 'state'
  | 'accountId'
  | 'payload'
  | 'attempts'
  | 'maxAttempts'
  | 'result'
  | 'runAt'
  | 'createdAt'
  | 'finishedAt'
> & { lastError: { name: string; message: string } | null };

@Controller('jobs')
@UseGuards(RequireAccountGuard)
export class JobsController {
  constructor(private readonly jobs: JobQueueService) {}

  /**
   * A job of the current account; 404 for unknown ids and for other accounts' jobs alike. No account
   * check here: inside the request's account (the guard put it in CLS) `find` sees only that account's
   * jobs, so another account's job is simply not found.
   */
  @Get(':id')
  async find(@Param('id') id: string): Promise<JobView> {
    const job = await this.jobs.find(id);
    if (!job) throw new NotFoundException(`Job ${id} not found.`);
    const { lastError } = job;
    return {
      id: job.id,
      name: job.name,
      state: job.state,
      accountId: job.accountId,
      payload: job.payload,
      attempts: job.attempts,
      maxAttempts: job.maxAttempts,
      result: job.result,
      lastError: lastError && { name: lastError.name, message: lastError.message },
      runAt: job.runAt,
      createdAt: job.createdAt,
      finishedAt: job.finishedAt,
    };
  }
}
