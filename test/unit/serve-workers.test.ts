import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { databaseOnThisMachine, workerCount } from '../../src/cli/serve.js';

describe('--workers', () => {
  it('defaults to one per core, or one per two cores when PostgreSQL shares the machine', () => {
    const remote = loadConfig({ 'database-url': 'postgresql://db.example/otlp' }, {});
    const local = loadConfig({ 'database-url': 'postgresql://otlp@127.0.0.1:5432/otlp' }, {});
    const embedded = loadConfig({}, { DATABASE_URL: '' });
    expect(workerCount(remote, 8)).toBe(8);
    expect(workerCount(local, 8)).toBe(4);
    expect(workerCount(embedded, 8)).toBe(4);
    expect(workerCount(embedded, 2)).toBe(1);
    expect(workerCount(embedded, 1)).toBe(1);
    expect(workerCount(loadConfig({ workers: '3' }, {}), 8)).toBe(3);
    expect(workerCount(loadConfig({ workers: '3', 'database-url': 'postgresql://db.example/otlp' }, {}), 8)).toBe(3);
  });

  it('tells a database on this machine from one elsewhere', () => {
    for (const url of ['', 'postgresql://u:p@localhost/db', 'postgres://127.0.0.1:6543/db', 'postgresql://[::1]:5432/db', 'postgresql:///db', 'postgresql://u@/db?host=/var/run/postgresql']) {
      expect(databaseOnThisMachine(url), url).toBe(true);
    }
    for (const url of ['postgresql://db.example/db', 'postgresql://10.0.0.5/db', 'postgresql://u@x/db?host=db.internal', 'host=localhost dbname=x']) {
      expect(databaseOnThisMachine(url), url).toBe(false);
    }
  });
});
