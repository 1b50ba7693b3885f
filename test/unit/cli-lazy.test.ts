// The `aslo` command loads only the module of the command it runs (src/cli/main.ts); the others
// are stand-ins whose help lines must read exactly like the real commands'.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildProgram, commandToLoad } from '../../src/cli/main.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('the lazily loaded command line', () => {
  it('lists every command in `aslo --help` exactly as the loaded commands describe themselves', async () => {
    const lazy = await buildProgram(null);
    const loaded = await buildProgram('all');
    assert.equal(lazy.helpInformation(), loaded.helpInformation());
    assert.deepEqual(
      lazy.commands.map((c) => c.name()),
      loaded.commands.map((c) => c.name()),
    );
  });

  it('loads the named command with the others standing in, and the same help for it', async () => {
    const loaded = await buildProgram('all');
    for (const cmd of loaded.commands) {
      const one = await buildProgram(cmd.name());
      assert.equal(one.helpInformation(), loaded.helpInformation(), cmd.name());
      const own = one.commands.find((c) => c.name() === cmd.name())!;
      assert.equal(own.helpInformation(), cmd.helpInformation(), cmd.name());
      assert.deepEqual(
        own.commands.map((c) => c.helpInformation()),
        cmd.commands.map((c) => c.helpInformation()),
        cmd.name(),
      );
    }
  });

  it('finds the command in the arguments, past the program options', () => {
    assert.equal(commandToLoad([]), null);
    assert.equal(commandToLoad(['--help']), null);
    assert.equal(commandToLoad(['-V']), null);
    assert.equal(commandToLoad(['inspect', 'x.xo']), 'inspect');
    assert.equal(commandToLoad(['--data', '/tmp/d', '--instance', 'devel', 'user', 'list']), 'user');
    assert.equal(commandToLoad(['--config=/etc/aslo.yaml', 'serve', '--port', '1']), 'serve');
    assert.equal(commandToLoad(['help', 'dev']), 'dev');
    assert.equal(commandToLoad(['help']), null);
    assert.equal(commandToLoad(['nosuch']), null);
    // Anything less plain: every command is loaded and commander decides, as before.
    assert.equal(commandToLoad(['--bogus', 'inspect']), 'all');
  });

  it('keeps the development tools out of the store: only the command table reaches tools/', () => {
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        if (statSync(p).isDirectory()) walk(p);
        else if (p.endsWith('.ts') && /from '[^']*tools\/|import\('[^']*tools\//.test(readFileSync(p, 'utf8'))) offenders.push(p.slice(ROOT.length));
      }
    };
    walk(join(ROOT, 'src'));
    assert.deepEqual(offenders, ['src/cli/main.ts']);
  });
});
