// Acceptance (issue 7): otlp-pg started from a YAML file plus environment plus flags: precedence
// (flags > environment > file > defaults), validation messages for bad values, and redaction.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/database.js';
import { freePort } from '../helpers/ports.js';
import { runCli } from '../helpers/process.js';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let dir: string;

beforeAll(async () => {
  db = await createTestDatabase();
  dir = await mkdtemp(path.join(tmpdir(), 'otlp-pg-config-'));
});

afterAll(async () => {
  await db?.drop();
  await rm(dir, { recursive: true, force: true });
});

describe('configuration from a file, the environment and flags', () => {
  it('takes flags over the environment over the file, and never prints the password', async () => {
    const [grpc, httpFromFile, httpFromEnv, telemetryFromEnv, telemetryFromFlag] = await Promise.all([1, 2, 3, 4, 5].map(() => freePort()));
    const password = new URL(db.url).password;
    expect(password.length).toBeGreaterThan(8);
    const file = path.join(dir, 'otlp-pg.yaml');
    await writeFile(
      file,
      [
        `database-url: "${db.url}"`,
        `grpc-endpoint: 127.0.0.1:${grpc}`,
        `http-endpoint: 127.0.0.1:${httpFromFile}`,
        'workers: 1',
        'batch-spans: 500',
        'auth-token: [from-file-token]',
        'log-level: debug',
      ].join('\n'),
    );
    const server = runCli(['serve', '--config', file, '--telemetry-endpoint', `127.0.0.1:${telemetryFromFlag}`], {
      DATABASE_URL: '',
      OTLP_PG_HTTP_ENDPOINT: `127.0.0.1:${httpFromEnv}`,
      OTLP_PG_TELEMETRY_ENDPOINT: `127.0.0.1:${telemetryFromEnv}`,
    });
    try {
      await server.waitFor('psql ');
      const out = server.output();
      expect(out).toContain(`OTLP/gRPC  127.0.0.1:${grpc}`); // from the file
      expect(out).toContain(`OTLP/HTTP  http://127.0.0.1:${httpFromEnv}`); // the environment over the file
      expect(out).toContain(`http://127.0.0.1:${telemetryFromFlag}/metrics`); // the flag over the environment
      expect(out).not.toContain(password);
      expect(out).not.toContain('from-file-token');
      expect(out).toContain(':*****@');
    } finally {
      expect(await server.stop()).toBe(0);
    }
    expect(server.output()).not.toContain(password);
  });

  it('refuses bad values and unknown keys, naming each with where it came from', async () => {
    const file = path.join(dir, 'bad.yaml');
    await writeFile(file, ['writers: lots', 'unknown-key: 1', 'grpc-endpoint: [a, b]', 'batch-spans: 0'].join('\n'));
    const bad = runCli(['serve', '--config', file]);
    expect(await bad.exited).toBe(2);
    expect(bad.output()).toContain(`unknown-key (in ${file}): unknown option`);
    expect(bad.output()).toContain(`grpc-endpoint (in ${file}): must be a single value`);

    const typed = path.join(dir, 'typed.yaml');
    await writeFile(typed, ['writers: lots', 'batch-spans: 0', 'dedupe: maybe'].join('\n'));
    const wrong = runCli(['serve', '--config', typed], { OTLP_PG_FLUSH_INTERVAL: 'soon' });
    expect(await wrong.exited).toBe(2);
    for (const message of [
      `writers (in ${typed}): "lots" must be a whole number`,
      `batch-spans (in ${typed}): "0" must be at least 1`,
      `dedupe (in ${typed}): "maybe" must be true or false`,
      'OTLP_PG_FLUSH_INTERVAL (--flush-interval): "soon" must be a duration',
    ]) {
      expect(wrong.output()).toContain(message);
    }
  });
});
