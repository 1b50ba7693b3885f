import type { Command } from 'commander';

// `aslo dev generate` is registered here (synthetic catalogs for benchmarks).
export function registerGenerate(_dev: Command): void {}
