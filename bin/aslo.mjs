#!/usr/bin/env node
// The `aslo` command. It runs the compiled JavaScript in dist/ (`npm run build`, which
// `npm install` and `npm start` run too). ASLO_FROM_SOURCE=1 runs the TypeScript in src/ through
// tsx instead: no build, a slower start.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

if (process.env.ASLO_FROM_SOURCE === '1') {
  const { register } = await import('tsx/esm/api');
  register();
  const { main } = await import('../src/cli/main.ts');
  process.exitCode = await main(process.argv);
} else {
  const built = new URL('../dist/.built', import.meta.url);
  if (!existsSync(built) || !existsSync(new URL('../dist/src/cli/main.js', import.meta.url))) {
    process.stderr.write(`aslo: the compiled program (dist/) is missing. Build it with:\n  cd ${root} && npm run build\n`);
    process.exit(1);
  }
  // A checkout whose sources changed since the build would run the old code without a word.
  const changed = newestChange(['src', 'tools']);
  if (changed > statSync(built).mtimeMs)
    process.stderr.write(`aslo: src/ changed since dist/ was built; this runs the previous build (npm run build updates it)\n`);
  const { main } = await import('../dist/src/cli/main.js');
  process.exitCode = await main(process.argv);
}

/** The newest modification time under the given folders of the checkout (0 when none exists). */
function newestChange(dirs) {
  let newest = 0;
  const walk = (dir) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
      newest = Math.max(newest, statSync(dir).mtimeMs);
    } catch {
      return;
    }
    for (const e of entries) {
      const p = `${dir}/${e.name}`;
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  for (const d of dirs) walk(`${root}${d}`);
  return newest;
}
