// Acceptance: the otlp-pg command on an embedded PostgreSQL, as `npm start` runs it: serves,
// stores, stops on SIGINT with exit code 0 and no postgres left behind (also when the signal comes
// during start-up), and finds its data again.
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { query } from '../helpers/database.js';
import { httpPost } from '../helpers/otlp.js';
import { freePort } from '../helpers/ports.js';
import { runCli } from '../helpers/process.js';

const dataDirs: string[] = [];
afterAll(async () => {
  for (const d of dataDirs) await rm(d, { recursive: true, force: true });
});

function postgresProcesses(dataDir: string): string[] {
  const ps = spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).stdout;
  return ps.split('\n').filter((l) => l.includes('postgres') && l.includes(dataDir));
}

describe('otlp-pg serve on an embedded PostgreSQL', () => {
  it('serves, stops cleanly on SIGINT (also mid start-up), and finds its data on the next start', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'otlp-pg-cli-'));
    dataDirs.push(dataDir);
    const [pgPort, grpcPort, httpPort] = [await freePort(), await freePort(), await freePort()];
    const args = ['serve', '--data-dir', dataDir, '--embedded-port', String(pgPort), '--grpc-endpoint', `127.0.0.1:${grpcPort}`, '--http-endpoint', `127.0.0.1:${httpPort}`, '--telemetry-endpoint', '127.0.0.1:0'];
    const example = await import('../fixtures/otlp-examples/trace.json', { with: { type: 'json' } });

    const first = runCli(args, { DATABASE_URL: '' });
    await first.waitFor('psql ');
    const psqlUrl = /psql '([^']+)'/.exec(first.output())?.[1] as string;
    expect(psqlUrl).toMatch(/^postgresql:\/\/postgres:[^@]+@127\.0\.0\.1:\d+\/otlp_pg$/);
    expect(first.output()).toContain(`OTLP/gRPC  127.0.0.1:${grpcPort}`);
    const res = await httpPost(httpPort, '/v1/traces', JSON.stringify(example.default), { 'Content-Type': 'application/json' });
    expect(res.status).toBe(200);

    first.child.kill('SIGINT');
    expect(await first.exited).toBe(0);
    expect(postgresProcesses(dataDir)).toEqual([]);

    const second = runCli(args, { DATABASE_URL: '' });
    await second.waitFor('psql ');
    const rows = await query(psqlUrl, 'SELECT name FROM trace_spans');
    expect(rows).toEqual([{ name: "I'm a server span" }]);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(postgresProcesses(dataDir)).toEqual([]);

    // Ctrl-C while the embedded PostgreSQL is still starting: otlp-pg finishes starting, then
    // stops it, rather than dying at once and leaving it running.
    const third = runCli([...args, '--log-level', 'debug'], { DATABASE_URL: '' });
    await third.waitFor('"msg":"embedded postgres"');
    third.child.kill('SIGINT');
    expect(await third.exited).toBe(0);
    expect(third.output()).toContain('stopping once start-up is done');
    expect(third.output()).not.toContain('psql ');
    expect(postgresProcesses(dataDir)).toEqual([]);
  });

  it('answers a signal even while start-up hangs on a database that never replies', async () => {
    // Accepts connections and never says a word: the PostgreSQL handshake waits forever.
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    try {
      const hung = runCli(['serve', '--database-url', `postgresql://u:p@127.0.0.1:${port}/db`, '--grpc-endpoint', '127.0.0.1:0', '--http-endpoint', '127.0.0.1:0', '--telemetry-endpoint', '127.0.0.1:0']);
      await hung.waitFor('"msg":"database"');
      hung.child.kill('SIGTERM');
      expect(await hung.exited).toBe(1);
      expect(hung.output()).toContain('stopping once start-up is done');
      expect(hung.output()).toContain('start-up did not finish within 10 s of the signal; exiting');
    } finally {
      silent.close();
    }
  });

  it('prints every option with its default on --help, and names bad values by their key', async () => {
    const help = runCli(['--help']);
    expect(await help.exited).toBe(0);
    expect(help.output()).toContain('--grpc-endpoint <endpoint>  [OTLP_PG_GRPC_ENDPOINT]');
    expect(help.output()).toContain('(default: 127.0.0.1:4317)');

    const bad = runCli(['--writers', 'lots']);
    expect(await bad.exited).toBe(2);
    expect(bad.output()).toContain('--writers: "lots" must be a whole number');
  });
});
