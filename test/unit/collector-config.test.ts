// collector-config.yaml is a ready OpenTelemetry Collector configuration: it parses, it sends every
// signal to otlp-pg's default OTLP/gRPC endpoint, and it uses only keys its components define.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { OPTIONS } from '../../src/config/options.js';
import { packageRoot } from '../../src/package-root.js';

const config = parse(readFileSync(path.join(packageRoot, 'collector-config.yaml'), 'utf8')) as Record<string, Record<string, unknown>>;

// The settings each component accepts, from the Collector's own documentation
// (receiver/otlpreceiver, processor/memorylimiterprocessor, processor/batchprocessor,
// exporter/otlpexporter with configgrpc, configtls, exporterhelper's queue and retry settings).
type Schema = { readonly [key: string]: Schema | true };
const TLS: Schema = { insecure: true, insecure_skip_verify: true, ca_file: true, cert_file: true, key_file: true, server_name_override: true, min_version: true };
const SCHEMAS: Record<string, Schema> = {
  otlp: {
    protocols: {
      grpc: { endpoint: true, max_recv_msg_size_mib: true, tls: TLS, keepalive: true, auth: true },
      http: { endpoint: true, tls: TLS, cors: true, auth: true, traces_url_path: true, metrics_url_path: true, logs_url_path: true },
    },
  },
  memory_limiter: { check_interval: true, limit_mib: true, spike_limit_mib: true, limit_percentage: true, spike_limit_percentage: true },
  batch: { send_batch_size: true, send_batch_max_size: true, timeout: true, metadata_keys: true, metadata_cardinality_limit: true },
  'otlp/otlp-pg': {
    endpoint: true,
    compression: true,
    timeout: true,
    headers: true,
    balancer_name: true,
    keepalive: true,
    tls: TLS,
    sending_queue: { enabled: true, num_consumers: true, queue_size: true, storage: true, block_on_overflow: true },
    retry_on_failure: { enabled: true, initial_interval: true, max_interval: true, max_elapsed_time: true, multiplier: true, randomization_factor: true },
  },
};

function unknownKeys(value: unknown, schema: Schema, at: string): string[] {
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value as Record<string, unknown>).flatMap(([key, v]) => {
    const rule = schema[key];
    if (rule === undefined) return [`${at}.${key}`];
    return rule === true ? [] : unknownKeys(v, rule, `${at}.${key}`);
  });
}

describe('collector-config.yaml', () => {
  it('exports every signal to otlp-pg over OTLP/gRPC with gzip, a queue and retries', () => {
    const exporter = config.exporters?.['otlp/otlp-pg'] as Record<string, unknown>;
    expect(exporter.endpoint).toBe(OPTIONS.grpcEndpoint.default);
    expect(exporter.compression).toBe('gzip');
    expect(exporter.sending_queue).toMatchObject({ enabled: true });
    expect(exporter.retry_on_failure).toMatchObject({ enabled: true });
    const pipelines = (config.service as { pipelines: Record<string, { receivers: string[]; processors: string[]; exporters: string[] }> }).pipelines;
    expect(Object.keys(pipelines).sort()).toEqual(['logs', 'metrics', 'traces']);
    for (const p of Object.values(pipelines)) {
      expect(p).toEqual({ receivers: ['otlp'], processors: ['memory_limiter', 'batch'], exporters: ['otlp/otlp-pg'] });
    }
  });

  it('runs beside otlp-pg on one host: no port of either, by default or in this file, is the other\'s', () => {
    // The Collector's own listeners at their defaults (service::telemetry metrics, and the
    // health_check, zpages and pprof extensions), plus the receivers this file configures.
    const collectorDefaults = [8888, 13133, 55679, 1777];
    const receivers = config.receivers?.otlp as { protocols: Record<string, { endpoint: string }> };
    const collector = [...collectorDefaults, ...Object.values(receivers.protocols).map((p) => Number(p.endpoint.split(':').pop()))];
    const endpoint = (key: 'grpcEndpoint' | 'httpEndpoint' | 'telemetryEndpoint'): number => Number(OPTIONS[key].default.split(':').pop());
    const otlpPg = [endpoint('grpcEndpoint'), endpoint('httpEndpoint'), endpoint('telemetryEndpoint'), Number(OPTIONS.embeddedPort.default)];
    expect(otlpPg.filter((port) => collector.includes(port))).toEqual([]);
    expect(new Set(otlpPg).size).toBe(otlpPg.length);
  });

  it('uses only keys its components define', () => {
    const sections = ['receivers', 'processors', 'exporters'] as const;
    const unknown = sections.flatMap((section) =>
      Object.entries(config[section] ?? {}).flatMap(([name, settings]) => {
        const schema = SCHEMAS[name];
        return schema ? unknownKeys(settings, schema, `${section}.${name}`) : [`${section}.${name} (unknown component)`];
      }),
    );
    expect(unknown).toEqual([]);
    expect(Object.keys(config).sort()).toEqual(['exporters', 'processors', 'receivers', 'service']);
  });
});
