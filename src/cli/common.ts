// What every subcommand shares: the --config/--instance/--data options, config loading, exit
// codes (0 done, 1 the work failed or was rejected, 2 usage error), and where a command runs.
//
// A command runs in one of three ways (set with runsThroughStore / runsAlone below):
//   - through the store: the day-to-day commands. While a store runs on the embedded database, the
//     command is sent over the store's control socket and its body runs inside the store, with
//     the store's context (src/cli/control.ts); otherwise it opens the database itself. The body
//     is the same code either way: it writes with say()/warn()/cliOut()/cliErr(), reads paths with
//     absPath() and standard input with readStdin(), and sets its status with setExitCode().
//   - alone: commands that cannot run beside a live store (serve, migrate, restore, dev generate)
//     refuse with DATA_DIR_IN_USE before touching anything when the folder is held.
//   - locally: commands that do not use the instance's database (inspect, publish, instance ...).
import { AsyncLocalStorage } from 'node:async_hooks';
import { Writable } from 'node:stream';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { AsloConfig } from '../platform/config.js';
import type { AppContext, ContextOptions } from '../platform/context.js';
import type { Services } from '../composition.js';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export interface CommonOptions {
  config?: string;
  instance?: string;
  data?: string;
}

/** A command running inside the store for a caller on the control socket. */
export interface StoreScope {
  ctx: AppContext;
  stdout: Writable;
  stderr: Writable;
  cwd: string;
  exitCode: number | undefined;
  readStdin(): Promise<string>;
}

const scopes = new AsyncLocalStorage<StoreScope>();

/** Run `fn` (a CLI command) inside the store, for a caller on the control socket. */
export function runInStoreScope<T>(scope: StoreScope, fn: () => Promise<T>): Promise<T> {
  return scopes.run(scope, fn);
}

/** The store scope when this command runs inside the store, else undefined. */
export function storeScope(): StoreScope | undefined {
  return scopes.getStore();
}

export type RunMode = 'store' | 'alone' | 'local';
const modes = new WeakMap<Command, RunMode | ((cmd: Command) => RunMode)>();

/** A day-to-day command: it runs through a store that holds the embedded database. */
export function runsThroughStore<C extends Command>(cmd: C, when?: (cmd: Command) => RunMode): C {
  modes.set(cmd, when ?? 'store');
  return cmd;
}

/** A command that cannot run beside a live store: refused with DATA_DIR_IN_USE while one runs. */
export function runsAlone<C extends Command>(cmd: C): C {
  modes.set(cmd, 'alone');
  return cmd;
}

export function runModeOf(cmd: Command): RunMode {
  const m = modes.get(cmd);
  if (!m) return 'local';
  return typeof m === 'function' ? m(cmd) : m;
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

/** The instance's config; inside the store, the store's own (its real address included). */
export async function configFrom(cmd: Command, extra: { port?: number; writeDefaults?: boolean } = {}): Promise<AsloConfig> {
  const scope = storeScope();
  if (scope) return scope.ctx.config;
  const o = commonOf(cmd);
  // Loaded here, not at the top: `aslo --help` and the commands without an instance start without it.
  const { loadConfig } = await import('../platform/config.js');
  return loadConfig({ configFile: o.config, instance: o.instance, dataDir: o.data, port: extra.port, writeDefaults: extra.writeDefaults ?? true });
}

/** The full name of a command, like "aslo user create". */
export function commandName(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * Run `fn` with the instance's services: inside the store its context; otherwise a context of
 * this process (which locks an embedded database until it is closed).
 */
export async function withContext<T>(cmd: Command, fn: (ctx: AppContext) => Promise<T>, opts: ContextOptions = {}): Promise<T> {
  const scope = storeScope();
  if (scope) return fn(scope.ctx);
  // Loaded here, not at the top: a command that never opens the instance starts without it.
  const { createContext } = await import('../platform/context.js');
  const ctx = await createContext(await configFrom(cmd), { holder: commandName(cmd), ...opts });
  try {
    return await fn(ctx);
  } finally {
    await ctx.close();
  }
}

/**
 * Run `fn` with the instance's services from the composition root (src/composition.ts), over
 * withContext's context: only the services the command uses are made, and closed after it.
 */
export async function withServices<T>(cmd: Command, fn: (services: Services, ctx: AppContext) => Promise<T>): Promise<T> {
  // Loaded here, not at the top: commands that need no service do not load them all.
  const { compose } = await import('../composition.js');
  return withContext(cmd, async (ctx) => {
    const composition = await compose(ctx.config, { context: ctx, ownsContext: false, createAll: false });
    try {
      return await fn(composition.services, ctx);
    } finally {
      await composition.close();
    }
  });
}

export class UsageError extends Error {}

/** Standard output of the command (the caller's, when it runs inside the store). */
export function cliOut(): Writable {
  return storeScope()?.stdout ?? process.stdout;
}

/** Standard error of the command. */
export function cliErr(): Writable {
  return storeScope()?.stderr ?? process.stderr;
}

export function say(line = ''): void {
  cliOut().write(line + '\n');
}

export function warn(line: string): void {
  cliErr().write(line + '\n');
}

/** The exit status of the command (0 when never set). */
export function setExitCode(code: number): void {
  const scope = storeScope();
  if (scope) scope.exitCode = code;
  else process.exitCode = code;
}

/** A path given on the command line, made absolute against the caller's working directory. */
export function absPath(p: string): string {
  return resolve(storeScope()?.cwd ?? process.cwd(), p);
}

/** The caller's standard input, whole, without its final newline. */
export async function readStdin(): Promise<string> {
  const scope = storeScope();
  const text = scope
    ? await scope.readStdin()
    : await (async () => {
        const chunks: Buffer[] = [];
        for await (const c of process.stdin) chunks.push(c as Buffer);
        return Buffer.concat(chunks).toString('utf8');
      })();
  return text.replace(/\r?\n$/, '');
}
