// Browser tests drive Debian's Chromium (/usr/bin/chromium, installed by .ci/run) with
// playwright-core, against the real server started by `aslo serve`. A missing Chromium is a
// failure with instructions, never a silent pass.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { startCliServer } from './cli.js';

export const CHROMIUM = process.env.ASLO_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}. Browser tests need it: run "apt-get install -y chromium" (.ci/run does this), or set ASLO_CHROMIUM to its path.`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

export interface StoreServer {
  url: string;
  dataDir: string;
  stop(): Promise<void>;
}

/** `aslo serve` on a fresh data folder (PGlite, sample activities loaded), on a free port. */
export async function startStoreServer(env: Record<string, string> = {}): Promise<StoreServer> {
  const dir = await mkdtemp(join(tmpdir(), 'aslo-browser-'));
  const server = await startCliServer(['--port', '0', '--data', join(dir, 'data')], {
    ASLO_DATA_DIR: '',
    ASLO_DATABASE_URL: '',
    ASLO_SERVER_BASE_URL: '',
    ...env,
  });
  return {
    url: server.url,
    dataDir: join(dir, 'data'),
    async stop() {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
