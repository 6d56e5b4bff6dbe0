import {
  Controller,
  ForbiddenException,
  Get,
  Inject,
  Param,
  Post,
  Req,
  Res,
  Type,
  UseGuards,
} from '@nestjs/common';
import { DASHBOARD_MOUNT, DASHBOARD_SETTINGS } from './dashboard.constants';
import { InvalidAccountIdError, InvalidArgumentError } from '../errors';
import {
  DashboardActions,
  FLOW_ACTIONS,
  FlowAction,
  FlowTarget,
  JOB_ACTIONS,
  JobAction,
} from './dashboard-actions.service';
import { DashboardAssets } from './dashboard-assets';
import type { DashboardMount, DashboardSettings } from './dashboard-mount';
import { DashboardPages } from './dashboard-pages.service';
import { BadFilterError, filterFields, parseFilter } from './dashboard-query';
import { DashboardScope } from './dashboard-scope';
import { CsrfTokens } from './csrf-tokens';
import type { Html } from './html/html.template';
import type { PageFrame } from './html/layout.template';
import {
  appendCookie,
  basePath,
  cookie,
  DashboardRequest,
  DashboardResponse,
  formFields,
  redirect,
  sendHtml,
} from './http-exchange';
import { confirmBulkPage, messagePage } from './pages/message.page';

const CSRF_COOKIE = 'jobs_dashboard_csrf';

/** Notices a redirect may ask for by name (never free text from the URL). */
const NOTICES: Record<string, string> = {
  retried: 'Retried: the job is runnable again.',
  cancelled: 'Cancelled.',
  discarded: 'Discarded: the job is deleted.',
  refused: 'Not applied: the job is not in a state that allows it (or its unique key is taken).',
  ran: 'Enqueued now.',
  bulk: 'Bulk action done.',
  paused: 'Paused: none of its jobs starts until it is resumed (running jobs finish).',
  resumed: 'Resumed: its waiting jobs run again.',
  unchanged: 'Nothing changed: it was so already.',
};

const isJobAction = (action: string): action is JobAction => Object.hasOwn(JOB_ACTIONS, action);
const isFlowAction = (action: string): action is FlowAction => Object.hasOwn(FLOW_ACTIONS, action);

/** Errors of `JobFlowControl` that mean the queue name or account id is not one (a 400, not a 500). */
const isRefusedKey = (error: unknown): error is Error =>
  error instanceof InvalidArgumentError || error instanceof InvalidAccountIdError;

/**
 * Builds the dashboard's controller for one mount: its path is the `path` option and the `guard` option
 * guards every route (pages, assets and actions), run by Nest like any `@UseGuards` guard. A controller
 * class per `forRoot` call, so an app may mount two dashboards (an operator's and an account-scoped one).
 */
export function createDashboardController(mount: DashboardMount): Type<unknown> {
  @Controller(mount.path)
  @UseGuards(...(mount.guard ? [mount.guard] : []))
  class JobsDashboardController {
    private readonly csrf: CsrfTokens;
    private readonly assets = new DashboardAssets();

    constructor(
      private readonly pages: DashboardPages,
      private readonly actions: DashboardActions,
      private readonly scope: DashboardScope,
      @Inject(DASHBOARD_MOUNT) private readonly dashboard: DashboardMount,
      @Inject(DASHBOARD_SETTINGS) private readonly settings: DashboardSettings,
    ) {
      this.csrf = new CsrfTokens(settings.csrfSecret);
    }

    @Get()
    overview(@Req() req: DashboardRequest, @Res() res: DashboardResponse): Promise<void> {
      return this.page(req, res, (frame) => this.pages.overview(frame, notice(req)));
    }

    @Get('jobs')
    jobs(@Req() req: DashboardRequest, @Res() res: DashboardResponse): Promise<void> {
      return this.page(req, res, (frame) => this.pages.jobs(frame, req.query, notice(req)));
    }

    @Get('jobs/:id')
    job(
      @Req() req: DashboardRequest,
      @Res() res: DashboardResponse,
      @Param('id') id: string,
    ): Promise<void> {
      return this.page(req, res, (frame) => this.pages.job(frame, id, req.query, notice(req)));
    }

    @Get('schedules')
    schedules(@Req() req: DashboardRequest, @Res() res: DashboardResponse): Promise<void> {
      return this.page(req, res, (frame) => this.pages.schedules(frame, notice(req)), true);
    }

    @Get('workers')
    workers(@Req() req: DashboardRequest, @Res() res: DashboardResponse): Promise<void> {
      return this.page(req, res, (frame) => this.pages.workers(frame), true);
    }

    @Get('accounts')
    accounts(@Req() req: DashboardRequest, @Res() res: DashboardResponse): Promise<void> {
      return this.page(req, res, (frame) => this.pages.accounts(frame, notice(req)), true);
    }

    @Get('assets/:file')
    async asset(@Res() res: DashboardResponse, @Param('file') file: string): Promise<void> {
      const asset = await this.assets.get(file);
      if (!asset) {
        res.status(404).header('content-type', 'text/plain').send('Not found');
        return;
      }
      res
        .status(200)
        .header('content-type', asset.type)
        .header('x-content-type-options', 'nosniff')
        .header('cache-control', 'private, max-age=300')
        .send(asset.body);
    }

    @Post('jobs/:id/:action')
    jobAction(
      @Req() req: DashboardRequest,
      @Res() res: DashboardResponse,
      @Param('id') id: string,
      @Param('action') action: string,
    ): Promise<void> {
      return this.post(req, res, async (frame) => {
        if (!isJobAction(action)) return this.notFound(frame);
        const applied = await this.actions.onJob(action, id, this.settings.actor(req));
        if (applied === null) return this.notFound(frame);
        const done = applied ? JOB_ACTIONS[action] : 'refused';
        return action === 'discard' && applied
          ? `${frame.base}/jobs?notice=discarded`
          : `${frame.base}/jobs/${id}?notice=${done}`;
      });
    }

    /** Without `confirm`: the count to confirm. With it: the action, then the list. */
    @Post('bulk/:action')
    bulk(
      @Req() req: DashboardRequest,
      @Res() res: DashboardResponse,
      @Param('action') action: string,
    ): Promise<void> {
      return this.post(req, res, async (frame) => {
        if (!isJobAction(action)) return this.notFound(frame);
        const fields = formFields(req);
        const filter = parseFilter(fields, this.scope.accountId());
        const listFields: Record<string, string | undefined> = {
          ...filterFields(filter, this.scope.scoped),
          before: undefined,
        };
        if (fields.confirm === undefined) {
          const matched = await this.actions.countMatching(filter);
          return confirmBulkPage(frame, action, matched, this.settings.bulkLimit, listFields);
        }
        const { matched, applied } = await this.actions.onFilter(
          action,
          filter,
          this.settings.actor(req),
        );
        const params = new URLSearchParams(
          Object.entries(listFields).filter((e): e is [string, string] => e[1] !== undefined),
        );
        params.set('notice', 'bulk');
        params.set('applied', `${applied}/${matched}`);
        return `${frame.base}/jobs?${params.toString()}`;
      });
    }

    @Post('schedules/:key/run')
    runSchedule(
      @Req() req: DashboardRequest,
      @Res() res: DashboardResponse,
      @Param('key') key: string,
    ): Promise<void> {
      return this.post(
        req,
        res,
        async (frame) => {
          const ids = await this.actions.runSchedule(key, this.settings.actor(req));
          return ids === null ? this.notFound(frame) : `${frame.base}/schedules?notice=ran`;
        },
        true,
      );
    }

    /** Pauses or resumes a queue (operator's dashboard only); back to the overview. */
    @Post('queues/:queue/:action')
    queueAction(
      @Req() req: DashboardRequest,
      @Res() res: DashboardResponse,
      @Param('queue') queue: string,
      @Param('action') action: string,
    ): Promise<void> {
      return this.flowAction(req, res, 'queue', queue, action, true);
    }

    /**
     * Pauses or resumes an account; back to the accounts page. The account-scoped dashboard accepts its
     * own account only (any other is 404), and goes back to its overview.
     */
    @Post('accounts/:account/:action')
    accountAction(
      @Req() req: DashboardRequest,
      @Res() res: DashboardResponse,
      @Param('account') account: string,
      @Param('action') action: string,
    ): Promise<void> {
      return this.flowAction(req, res, 'account', account, action, false);
    }

    private flowAction(
      req: DashboardRequest,
      res: DashboardResponse,
      target: FlowTarget,
      key: string,
      action: string,
      global: boolean,
    ): Promise<void> {
      return this.post(
        req,
        res,
        async (frame) => {
          if (!isFlowAction(action)) return this.notFound(frame);
          let changed: boolean | null;
          try {
            changed = await this.actions.flow(action, target, key, this.settings.actor(req));
          } catch (error) {
            if (!isRefusedKey(error)) throw error;
            return new Reply(400, messagePage(frame, 'Not applied', error.message));
          }
          if (changed === null) return this.notFound(frame);
          const back = target === 'queue' || frame.scoped ? '' : '/accounts';
          return `${frame.base}${back}?notice=${changed ? FLOW_ACTIONS[action] : 'unchanged'}`;
        },
        global,
      );
    }

    /** Renders a GET page: 404 for a missing job, 400 for a bad filter, 404 for a global page when scoped. */
    private async page(
      req: DashboardRequest,
      res: DashboardResponse,
      render: (frame: PageFrame) => Promise<Html | null>,
      global = false,
    ): Promise<void> {
      const frame = this.frame(req, res);
      try {
        const body = global && this.scope.scoped ? null : await render(frame);
        if (body) sendHtml(res, 200, body.text);
        else this.notFound(frame).send(res);
      } catch (error) {
        if (!(error instanceof BadFilterError)) throw error;
        sendHtml(res, 400, messagePage(frame, 'Bad filter', error.message).text);
      }
    }

    /**
     * Runs a POST action after checking its CSRF token: a redirect (303) to a URL, or a page (the bulk
     * confirmation, a not-found page).
     */
    private async post(
      req: DashboardRequest,
      res: DashboardResponse,
      act: (frame: PageFrame) => Promise<string | Html | Reply>,
      global = false,
    ): Promise<void> {
      const fields = formFields(req);
      if (!this.csrf.verify(cookie(req, CSRF_COOKIE), fields._csrf)) {
        throw new ForbiddenException(
          'The dashboard form was not accepted (missing or stale CSRF token): reload the page and try again.',
        );
      }
      const frame = this.frame(req, res);
      try {
        const outcome = global && this.scope.scoped ? this.notFound(frame) : await act(frame);
        if (typeof outcome === 'string') redirect(res, outcome);
        else if (outcome instanceof Reply) outcome.send(res);
        else sendHtml(res, 200, outcome.text);
      } catch (error) {
        if (!(error instanceof BadFilterError)) throw error;
        sendHtml(res, 400, messagePage(frame, 'Bad filter', error.message).text);
      }
    }

    /** The page frame; issues the CSRF cookie on the first visit. */
    private frame(req: DashboardRequest, res: DashboardResponse): PageFrame {
      const base = basePath(req, this.dashboard.path);
      let nonce = cookie(req, CSRF_COOKIE);
      if (!nonce || !/^[A-Za-z0-9_-]{24}$/.test(nonce)) {
        nonce = this.csrf.newNonce();
        const secure = req.secure || req.protocol === 'https' ? '; Secure' : '';
        appendCookie(
          res,
          `${CSRF_COOKIE}=${nonce}; Path=${base}; HttpOnly; SameSite=Strict${secure}`,
        );
      }
      const accountId = this.scope.accountId();
      return {
        base,
        title: this.settings.title,
        csrf: this.csrf.tokenFor(nonce),
        scoped: this.scope.scoped,
        accountId: this.scope.scoped ? accountId : undefined,
      };
    }

    private notFound(frame: PageFrame): Reply {
      return new Reply(404, messagePage(frame, 'Not found', 'There is no such job or page here.'));
    }
  }
  return JobsDashboardController;
}

/** A page sent with a status other than 200. */
class Reply {
  constructor(
    readonly status: number,
    readonly page: Html,
  ) {}

  send(res: DashboardResponse): void {
    sendHtml(res, this.status, this.page.text);
  }
}

/** The notice a redirect asked for, from the fixed list. */
function notice(req: DashboardRequest): string | undefined {
  const name = req.query.notice;
  if (typeof name !== 'string' || !Object.hasOwn(NOTICES, name)) return undefined;
  const applied = req.query.applied;
  return name === 'bulk' && typeof applied === 'string' && /^\d+\/\d+$/.test(applied)
    ? `Bulk action done: applied to ${applied.replace('/', ' of ')} matching jobs.`
    : NOTICES[name];
}
