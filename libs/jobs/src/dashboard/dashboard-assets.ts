import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The files under `assets/` the dashboard serves, and their types. Nothing else is readable. */
const ASSETS: Readonly<Record<string, string>> = {
  'dashboard.css': 'text/css; charset=utf-8',
  'dashboard.js': 'text/javascript; charset=utf-8',
};

/** A served asset. */
export interface Asset {
  type: string;
  body: Buffer;
}

/**
 * The stylesheet and script shipped in the package (`assets/` beside this file; the package build copies
 * them), read once and kept in memory. Only the names listed above are served, so a request can never
 * name another file.
 */
export class DashboardAssets {
  private readonly cache = new Map<string, Promise<Asset>>();

  constructor(private readonly dir = join(__dirname, 'assets')) {}

  /** The asset called `name`, or `undefined` for any other name. */
  get(name: string): Promise<Asset> | undefined {
    const type = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
    if (!type) return undefined;
    let asset = this.cache.get(name);
    if (!asset) {
      asset = readFile(join(this.dir, name)).then((body) => ({ type, body }));
      asset.catch(() => this.cache.delete(name));
      this.cache.set(name, asset);
    }
    return asset;
  }
}
