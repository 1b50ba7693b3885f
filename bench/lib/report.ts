// Shared by the benchmarks: the machine a run happened on, tables, progress lines, and writing one
// section of docs/benchmarks.md without touching the others.
import { existsSync, readFileSync, writeFileSync, renameSync, mkdirSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { cpus, totalmem, platform, release, arch, loadavg } from 'node:os';
import { join } from 'node:path';

export const ROOT = new URL('../../', import.meta.url).pathname;
export const DOC = join(ROOT, 'docs', 'benchmarks.md');

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  memoryBytes: number;
  node: string;
  os: string;
}

export function machine(): Machine {
  const list = cpus();
  const memoryBytes = totalmem();
  return {
    cpu: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    memoryGiB: Math.round((memoryBytes / 1024 ** 3) * 10) / 10,
    memoryBytes,
    node: process.version,
    os: `${platform()} ${release()} ${arch()}`,
  };
}

export function machineLine(m: Machine = machine()): string {
  return `${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB memory, Node ${m.node}, ${m.os}`;
}

/** The redirector benchmarks' form of the machine line: memory in whole GiB. */
export function shortMachineLine(m: Machine = machine()): string {
  return `${m.cpu}, ${m.cores} cores, ${Math.round(m.memoryBytes / 1024 ** 3)} GiB, Node ${m.node}, ${m.os}`;
}

/** Today's date, YYYY-MM-DD (UTC). */
export function today(): string {
  return new Date().toISOString().slice(0, 10);
}

/** "Run <date> on <machine>.": the first line of a section. */
export function runLine(): string {
  return `Run ${today()} on ${machineLine()}.`;
}

/** The load averages (1, 5, 15 minutes), e.g. "1.3 1.4 1.5". */
export function loadAverage(): string {
  return loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');
}

/** A progress line on stderr (stdout is for the tables). */
export function log(s: string): void {
  process.stderr.write(s + '\n');
}

/** A markdown table; numbers are right-aligned. */
export function table(head: string[], rows: (string | number)[][]): string {
  const cells = [head, ...rows.map((r) => r.map(String))];
  const width = head.map((_, i) => Math.max(3, ...cells.map((r) => r[i]!.length)));
  const numeric = head.map((_, i) => rows.every((r) => /^[-+]?[\d.,]+\s*[a-zA-Z/%×]*$/.test(String(r[i]))));
  const line = (r: string[]) => `| ${r.map((c, i) => (numeric[i] ? c.padStart(width[i]!) : c.padEnd(width[i]!))).join(' | ')} |`;
  const sep = `|${width.map((w, i) => (numeric[i] ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(head), sep, ...rows.map((r) => line(r.map(String)))].join('\n');
}

/** A markdown table without padding or alignment (the redirector benchmarks' sections). */
export function plainTable(head: string[], rows: (string | number)[][]): string {
  const line = (r: (string | number)[]) => `| ${r.join(' | ')} |`;
  return [line(head), `|${head.map(() => '---').join('|')}|`, ...rows.map(line)].join('\n');
}

const SKELETON = `# Benchmarks

Performance targets live in benchmarks under \`bench/\`; tests never assert timings. Each benchmark
prints its tables and rewrites its own section of this file (between its \`bench:<name>\` markers),
with the machine it ran on. Ratios are measured in the same run, so they compare across machines
better than absolute numbers do.
`;

/**
 * Replace the text between `<!-- bench:NAME:start -->` and `<!-- bench:NAME:end -->` in
 * docs/benchmarks.md. When the markers are missing, the section is appended under `heading`.
 */
export function writeSection(name: string, heading: string, body: string): void {
  // Several benchmarks may finish at once: a lock folder makes each read-edit-rename whole, so
  // one never writes back a file that lacks the section another just wrote.
  const lock = `${DOC}.lock`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 60_000 || Date.now() > deadline) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    }
  }
  try {
    const start = `<!-- bench:${name}:start -->`;
    const end = `<!-- bench:${name}:end -->`;
    let doc = existsSync(DOC) ? readFileSync(DOC, 'utf8') : SKELETON;
    const block = `${start}\n${body.trim()}\n${end}`;
    const i = doc.indexOf(start);
    const j = doc.indexOf(end);
    if (i >= 0 && j > i) doc = doc.slice(0, i) + block + doc.slice(j + end.length);
    else doc = `${doc.trimEnd()}\n\n${heading}\n\n${block}\n`;
    const tmp = `${DOC}.tmp-${process.pid}`;
    writeFileSync(tmp, doc);
    renameSync(tmp, DOC);
  } finally {
    rmdirSync(lock);
  }
}
