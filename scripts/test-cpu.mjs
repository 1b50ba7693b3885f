// Preloaded into every test process by scripts/test.mjs: when the process exits it prints the CPU
// time (user + system) it used together with the child processes it waited for (`aslo`, git,
// PostgreSQL tools...), read from /proc/self/stat; the runner adds these up per file and in total.
import { readFileSync, writeSync } from 'node:fs';

process.on('exit', () => {
  let ms;
  try {
    // Fields after the command name: utime stime cutime cstime are the 12th to 15th, in ticks.
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ms = (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * 10;
  } catch {
    const u = process.resourceUsage();
    ms = (u.userCPUTime + u.systemCPUTime) / 1000;
  }
  try {
    writeSync(2, `\nℹ cpu_ms ${Math.round(ms)}\n`);
  } catch {
    // the runner is gone
  }
});
