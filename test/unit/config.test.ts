import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, helpText, loadConfig, redactUrl } from '../../src/config/config.js';
import { OPTIONS } from '../../src/config/options.js';
import { packageRoot } from '../../src/package-root.js';

describe('loadConfig', () => {
  it('takes defaults, then environment, then flags', () => {
    expect(loadConfig({}, {}).grpcEndpoint).toEqual({ host: '127.0.0.1', port: 4317 });
    expect(loadConfig({}, { OTLP_PG_WRITERS: '3' }).writers).toBe(3);
    expect(loadConfig({ writers: '2' }, { OTLP_PG_WRITERS: '3' }).writers).toBe(2);
    expect(loadConfig({ 'max-request-bytes': '8MiB', 'flush-interval': '2s' }, {})).toMatchObject({
      maxRequestBytes: 8 * 1024 * 1024,
      flushIntervalMs: 2000,
    });
  });

  it('names every violation by its key, redacting secrets, and freezes the result', () => {
    let error: unknown;
    try {
      loadConfig({ writers: '0', 'grpc-endpoint': 'nope' }, { OTLP_PG_BATCH_SPANS: 'many', DATABASE_URL: 'bad' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const violations = (error as ConfigError).violations;
    expect(violations).toEqual([
      '--grpc-endpoint: "nope" must be host:port, e.g. 127.0.0.1:4317',
      'OTLP_PG_BATCH_SPANS (--batch-spans): "many" must be a whole number',
      '--writers: "0" must be at least 1',
    ]);
    expect(Object.isFrozen(loadConfig({}, {}))).toBe(true);
    expect(Object.isFrozen(loadConfig({}, {}).httpEndpoint)).toBe(true);
  });

  it('checks rules across keys, and reads booleans and durations with units', () => {
    expect(() => loadConfig({ writers: '8', 'pool-max': '4' }, {})).toThrow('--writers: 8 is more than --pool-max (4)');
    expect(loadConfig({ dedupe: 'off', 'dedupe-window': '2h' }, {})).toMatchObject({ dedupe: false, dedupeWindowMs: 7_200_000 });
    expect(() => loadConfig({ dedupe: 'maybe' }, {})).toThrow('--dedupe: "maybe" must be true or false');
  });

  it('redacts passwords from URLs', () => {
    expect(redactUrl('postgresql://u:secret@db:5432/x')).toBe('postgresql://u:*****@db:5432/x');
  });

  it('lists every option with its env twin in --help', () => {
    const help = helpText();
    for (const spec of Object.values(OPTIONS)) {
      expect(help).toContain(`--${spec.flag}`);
      expect(help).toContain(spec.env);
    }
  });
});

describe('README configuration table', () => {
  it('documents every option with its environment twin', () => {
    const readme = readFileSync(path.join(packageRoot, 'README.md'), 'utf8');
    for (const spec of Object.values(OPTIONS)) expect(readme).toContain(`| \`--${spec.flag}\` | \`${spec.env}\` |`);
  });
});
