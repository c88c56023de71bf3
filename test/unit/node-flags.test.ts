import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/package-root.js';
import { binNodeFlags } from '../helpers/process.js';

// otlp-pg's node flags live in bin/otlp-pg.js's first line; `npm start` runs node itself and must pass
// the same ones (the bench and the tests' server processes read them from the bin).

describe('the node flags otlp-pg runs with', () => {
  it('are the same for the installed command and for npm start', () => {
    const pkg = JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { scripts: { start: string } };
    expect(pkg.scripts.start).toBe(['node', ...binNodeFlags(), 'bin/otlp-pg.js'].join(' '));
    expect(binNodeFlags()).toContainEqual(expect.stringMatching(/^--initial-heap-size=\d+$/));
  });

  it('are accepted by this node', () => {
    const flags = binNodeFlags();
    const run = spawnSync(process.execPath, [...flags, '-e', 'process.stdout.write(JSON.stringify(process.execArgv))'], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect((JSON.parse(run.stdout) as string[]).slice(0, flags.length)).toEqual(flags);
  });
});
