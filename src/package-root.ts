import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The directory holding package.json, proto/ and migrations/. Found by walking up from this module,
 * so it is the same whether the code runs from src/ (tests, tsx) or from the compiled dist/.
 */
export const packageRoot: string = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'migrations'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('otlp-pg: cannot find the package root (package.json and migrations/)');
    dir = parent;
  }
})();
