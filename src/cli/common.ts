// What every subcommand shares: the --config/--instance/--data options, config loading, and
// exit codes (0 done, 1 the work failed or was rejected, 2 usage error).
import type { Command } from 'commander';
import { loadConfig, type AsloConfig } from '../platform/config.js';
import { createContext, type AppContext, type ContextOptions } from '../platform/context.js';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export interface CommonOptions {
  config?: string;
  instance?: string;
  data?: string;
}

export function withCommon(cmd: Command): Command {
  return cmd
    .option('--config <file>', 'config file (default: <data>/config.yaml, env ASLO_CONFIG)')
    .option('--instance <name>', 'instance to use (env ASLO_INSTANCE, default "default")')
    .option('--data <dir>', 'data folder (env ASLO_DATA_DIR, default ~/.local/share/aslo)');
}

/** Options of the subcommand merged over the program's (either place works). */
export function commonOf(cmd: Command): CommonOptions {
  const merged: CommonOptions = {};
  const chain: Command[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) chain.unshift(c);
  for (const c of chain) {
    const o = c.opts() as CommonOptions;
    if (o.config) merged.config = o.config;
    if (o.instance) merged.instance = o.instance;
    if (o.data) merged.data = o.data;
  }
  return merged;
}

export function configFrom(cmd: Command, extra: { port?: number; writeDefaults?: boolean } = {}): AsloConfig {
  const o = commonOf(cmd);
  return loadConfig({ configFile: o.config, instance: o.instance, dataDir: o.data, port: extra.port, writeDefaults: extra.writeDefaults ?? true });
}

export async function withContext<T>(cmd: Command, fn: (ctx: AppContext) => Promise<T>, opts: ContextOptions = {}): Promise<T> {
  const ctx = await createContext(configFrom(cmd), opts);
  try {
    return await fn(ctx);
  } finally {
    await ctx.close();
  }
}

export class UsageError extends Error {}

export function say(line = ''): void {
  process.stdout.write(line + '\n');
}

export function warn(line: string): void {
  process.stderr.write(line + '\n');
}
