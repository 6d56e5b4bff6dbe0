/** Injection tokens of the dashboard, internal to the package. */

/** The checked import-time options of one mounted dashboard (`DashboardMount`). */
export const DASHBOARD_MOUNT = Symbol('DASHBOARD_MOUNT');
/** The runtime options with defaults (`DashboardSettings`). */
export const DASHBOARD_SETTINGS = Symbol('DASHBOARD_SETTINGS');
