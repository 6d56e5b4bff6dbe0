import { InvalidDashboardOptionsError } from './invalid-dashboard-options.error';
import { JobsDashboardModule } from './jobs-dashboard.module';
import { resolveMount, resolveSettings } from './dashboard-mount';

describe('dashboard options', () => {
  const guard = { canActivate: () => true };

  it('refuses to mount without a guard unless public: true', () => {
    expect(() => JobsDashboardModule.forRoot({ path: '/admin/jobs' })).toThrow(
      InvalidDashboardOptionsError,
    );
    expect(() => JobsDashboardModule.forRoot({})).toThrow(/"guard" is required.*public: true/);
    expect(() => JobsDashboardModule.forRootAsync({ useFactory: () => ({}) })).toThrow(
      InvalidDashboardOptionsError,
    );
    expect(resolveMount({ public: true }).guard).toBeUndefined();
    expect(() => resolveMount({ public: true, guard })).toThrow(/"public"/);
  });

  it('normalizes the path and refuses one that is not plain segments', () => {
    expect(resolveMount({ guard }).path).toBe('/jobs');
    expect(resolveMount({ guard, path: 'admin/jobs/' }).path).toBe('/admin/jobs');
    expect(() => resolveMount({ guard, path: '/a b' })).toThrow(/"path"/);
    expect(() => resolveMount({ guard, path: '/' })).toThrow(/"path"/);
  });

  it('checks scope and the runtime options', () => {
    expect(() => resolveMount({ guard, scope: 'tenant' as never })).toThrow(/"scope"/);
    expect(resolveSettings({})).toMatchObject({ title: 'Jobs', pageSize: 50, bulkLimit: 10_000 });
    expect(resolveSettings({}).csrfSecret).toHaveLength(64);
    expect(() => resolveSettings({ pageSize: 0 })).toThrow(/"pageSize"/);
    expect(() => resolveSettings({ bulkLimit: 1e6 })).toThrow(/"bulkLimit"/);
    expect(() => resolveSettings({ csrfSecret: 'short' })).toThrow(/"csrfSecret"/);
    expect(resolveSettings({}).actor({ user: { id: 7 }, ip: '::1' })).toBe('7');
    expect(resolveSettings({}).actor({ ip: '::1' })).toBe('::1');
  });
});
