// Reporting helpers of this benchmark: the machine, markdown tables, and rewriting only this
// benchmark's section of docs/benchmarks.md (between its bench:<name> markers).
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { arch, cpus, platform, release, totalmem } from 'node:os';
import { join } from 'node:path';

export const ROOT = new URL('../../', import.meta.url).pathname;
export const DOC = join(ROOT, 'docs', 'benchmarks.md');

export function machineLine(): string {
  const list = cpus();
  return `${list[0]?.model.trim() ?? 'unknown CPU'}, ${list.length} cores, ${Math.round((totalmem() / 1024 ** 3) * 10) / 10} GiB memory, Node ${process.version}, ${platform()} ${release()} ${arch()}`;
}

export function table(head: string[], rows: (string | number)[][]): string {
  const cells = [head, ...rows.map((r) => r.map(String))];
  const width = head.map((_, i) => Math.max(3, ...cells.map((r) => r[i]!.length)));
  const numeric = head.map((_, i) => rows.every((r) => /^[-+]?[\d.,]+$/.test(String(r[i]))));
  const line = (r: string[]) => `| ${r.map((c, i) => (numeric[i] ? c.padStart(width[i]!) : c.padEnd(width[i]!))).join(' | ')} |`;
  const sep = `|${width.map((w, i) => (numeric[i] ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(head), sep, ...rows.map((r) => line(r.map(String)))].join('\n');
}

export function writeSection(name: string, heading: string, body: string): void {
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  let doc = existsSync(DOC) ? readFileSync(DOC, 'utf8') : '# Benchmarks\n';
  const block = `${start}\n${body.trim()}\n${end}`;
  const i = doc.indexOf(start);
  const j = doc.indexOf(end);
  if (i >= 0 && j > i) doc = doc.slice(0, i) + block + doc.slice(j + end.length);
  else doc = `${doc.trimEnd()}\n\n${heading}\n\n${block}\n`;
  const tmp = `${DOC}.tmp-${process.pid}`;
  writeFileSync(tmp, doc);
  renameSync(tmp, DOC);
}
