import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { workerCount } from '../../src/cli/serve.js';

describe('--workers', () => {
  it('defaults to one per core, or one per two cores beside the embedded PostgreSQL', () => {
    const external = loadConfig({ 'database-url': 'postgresql://db.example/otlp' }, {});
    const embedded = loadConfig({}, { DATABASE_URL: '' });
    expect(workerCount(external, 8)).toBe(8);
    expect(workerCount(embedded, 8)).toBe(4);
    expect(workerCount(embedded, 2)).toBe(1);
    expect(workerCount(embedded, 1)).toBe(1);
    expect(workerCount(loadConfig({ workers: '3' }, {}), 8)).toBe(3);
    expect(workerCount(loadConfig({ workers: '3', 'database-url': 'postgresql://db.example/otlp' }, {}), 8)).toBe(3);
  });
});
