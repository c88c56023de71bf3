// Acceptance for issue 7 (security): the OpenTelemetry JS SDK's own trace exporters (gRPC, HTTP/protobuf,
// HTTP/JSON) against a real otlp-pg over TLS with bearer tokens, and with mutual TLS. The right credentials
// get spans stored (checked in SQL); each missing or wrong one is refused the way the exporter sees it.
import * as grpc from '@grpc/grpc-js';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as HttpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as HttpProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server.js';
import { createTestPki, type TestPki } from '../helpers/certs.js';
import { createTestDatabase, query } from '../helpers/database.js';
import { startTestServer } from '../helpers/server.js';

const TOKENS = ['first-token-7f3a', 'second-token-c91e'];
/** Failures must come back quickly: the HTTP exporter retries network errors until this runs out. */
const TIMEOUT_MS = 3000;

let pki: TestPki;
let db: Awaited<ReturnType<typeof createTestDatabase>>;

beforeAll(async () => {
  pki = createTestPki();
  db = await createTestDatabase();
});

afterAll(async () => {
  await db?.drop();
  pki?.remove();
});

interface Credentials {
  /** Bearer token to send; none when undefined. */
  token?: string;
  /** Trust the test CA (else the exporter only trusts the system roots). */
  trustCa?: boolean;
  /** Present the client certificate signed by the test CA. */
  clientCert?: boolean;
  /** Speak plain text to the TLS port. */
  plainText?: boolean;
}

type Protocol = 'grpc' | 'http/protobuf' | 'http/json';
const PROTOCOLS: readonly Protocol[] = ['grpc', 'http/protobuf', 'http/json'];

/** An SDK exporter for `protocol`, configured the way its documentation says for TLS and headers. */
function exporterFor(server: RunningServer, protocol: Protocol, c: Credentials): SpanExporter {
  const scheme = c.plainText ? 'http' : 'https';
  if (protocol === 'grpc') {
    const metadata = new grpc.Metadata();
    if (c.token !== undefined) metadata.set('authorization', `Bearer ${c.token}`);
    const ca = c.trustCa ? pki.pem.ca : null;
    const credentials = c.plainText
      ? grpc.credentials.createInsecure()
      : c.clientCert
        ? grpc.credentials.createSsl(ca, pki.pem.clientKey, pki.pem.clientCert)
        : grpc.credentials.createSsl(ca);
    return new GrpcExporter({ url: `${scheme}://127.0.0.1:${server.grpc.port}`, credentials, metadata, timeoutMillis: TIMEOUT_MS });
  }
  const headers: Record<string, string> = c.token === undefined ? {} : { Authorization: `Bearer ${c.token}` };
  const config = {
    url: `${scheme}://127.0.0.1:${server.http.port}/v1/traces`,
    headers,
    // otlp-exporter-base hands these to https.Agent (and drops the TLS ones for http: URLs).
    httpAgentOptions: {
      ...(c.trustCa ? { ca: pki.pem.ca } : {}),
      ...(c.clientCert ? { cert: pki.pem.clientCert, key: pki.pem.clientKey } : {}),
    },
    timeoutMillis: TIMEOUT_MS,
  };
  return protocol === 'http/json' ? new HttpJsonExporter(config) : new HttpProtoExporter(config);
}

/** Makes two spans of a fresh service and exports them once through `exporter`; answers its result. */
async function exportSpans(exporter: SpanExporter, service: string): Promise<ExportResult> {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    spanProcessors: [new SimpleSpanProcessor(memory)],
  });
  const tracer = provider.getTracer('otlp-pg-security-test');
  tracer.startSpan('first').end();
  tracer.startSpan('second').end();
  const spans = memory.getFinishedSpans();
  await provider.shutdown();
  try {
    return await new Promise<ExportResult>((resolve) => exporter.export(spans, resolve));
  } finally {
    await exporter.shutdown();
  }
}

async function storedSpans(service: string): Promise<number> {
  const rows = await query<{ n: string }>(db.url, 'SELECT count(*) AS n FROM trace_spans WHERE service_name = $1', [service]);
  return Number(rows[0]?.n);
}

interface Refusal {
  /** HTTP status or gRPC code; for a connection that failed, node's error code. */
  code?: unknown;
  message?: string;
  /** The HTTP response body (OTLPExporterError.data). */
  data?: string;
}

function refusal(result: ExportResult): Refusal {
  expect(result.code).toBe(ExportResultCode.FAILED);
  const error = result.error as (Error & { code?: unknown; data?: string }) | undefined;
  return { code: error?.code, message: error?.message, data: error?.data };
}

/** Exports through `protocol` with `c`, expects a refusal, and checks that nothing was stored. */
async function refused(server: RunningServer, protocol: Protocol, c: Credentials): Promise<Refusal> {
  const service = `refused-${randomUUID()}`;
  const result = await exportSpans(exporterFor(server, protocol, c), service);
  expect(await storedSpans(service)).toBe(0);
  return refusal(result);
}

const unauthenticated = (protocol: Protocol): number => (protocol === 'grpc' ? grpc.status.UNAUTHENTICATED : 401);

describe('TLS and bearer tokens', () => {
  let server: RunningServer;

  beforeAll(async () => {
    server = await startTestServer(db.url, {
      'tls-cert': pki.files.serverCert,
      'tls-key': pki.files.serverKey,
      'auth-token': TOKENS.join(','),
    });
  });

  afterAll(() => server?.shutdown());

  it('says https for both transports', () => {
    expect([server.grpc.scheme, server.http.scheme]).toEqual(['https', 'https']);
  });

  it.each(PROTOCOLS)('%s: stores the spans of an exporter with the CA and a configured token', async (protocol) => {
    for (const token of TOKENS) {
      const service = `secure-${protocol}-${randomUUID()}`;
      const result = await exportSpans(exporterFor(server, protocol, { trustCa: true, token }), service);
      expect(result.error).toBeUndefined();
      expect(result.code).toBe(ExportResultCode.SUCCESS);
      expect(await storedSpans(service)).toBe(2);
    }
  });

  it.each(PROTOCOLS)('%s: refuses an exporter without a token as unauthenticated', async (protocol) => {
    const { code, data } = await refused(server, protocol, { trustCa: true });
    expect(code).toBe(unauthenticated(protocol));
    // The 401 body is a google.rpc.Status in the request's encoding.
    if (protocol === 'http/json') expect(JSON.parse(data ?? '')).toMatchObject({ code: 16, message: expect.stringMatching(/missing credentials/) });
  });

  it.each(PROTOCOLS)('%s: refuses a wrong token as unauthenticated', async (protocol) => {
    expect((await refused(server, protocol, { trustCa: true, token: 'first-token-7f3b' })).code).toBe(unauthenticated(protocol));
    expect((await refused(server, protocol, { trustCa: true, token: TOKENS.join(',') })).code).toBe(unauthenticated(protocol));
  });

  it.each(PROTOCOLS)('%s: a plain-text exporter cannot connect to the TLS port', async (protocol) => {
    const { code } = await refused(server, protocol, { plainText: true, token: TOKENS[0] });
    // gRPC: no channel comes up; HTTP: the server drops the connection at the failed handshake.
    expect(code).toBe(protocol === 'grpc' ? grpc.status.UNAVAILABLE : 'ECONNRESET');
  });

  it.each(PROTOCOLS)('%s: an exporter that does not trust the CA refuses the server', async (protocol) => {
    const { code, message } = await refused(server, protocol, { token: TOKENS[0] });
    if (protocol === 'grpc') expect(code).toBe(grpc.status.UNAVAILABLE);
    else expect(`${String(code)} ${message}`).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|unable to verify/);
  });
});

describe('mutual TLS', () => {
  let server: RunningServer;

  beforeAll(async () => {
    server = await startTestServer(db.url, {
      'tls-cert': pki.files.serverCert,
      'tls-key': pki.files.serverKey,
      'tls-client-ca': pki.files.ca,
      'auth-token': TOKENS[1] ?? '',
    });
  });

  afterAll(() => server?.shutdown());

  it.each(PROTOCOLS)('%s: stores the spans of an exporter presenting a client certificate from the CA', async (protocol) => {
    const service = `mtls-${protocol}-${randomUUID()}`;
    const result = await exportSpans(exporterFor(server, protocol, { trustCa: true, clientCert: true, token: TOKENS[1] }), service);
    expect(result.error).toBeUndefined();
    expect(result.code).toBe(ExportResultCode.SUCCESS);
    expect(await storedSpans(service)).toBe(2);
  });

  it.each(PROTOCOLS)('%s: refuses an exporter without a client certificate, token or not', async (protocol) => {
    const { code } = await refused(server, protocol, { trustCa: true, token: TOKENS[1] });
    // TLS 1.3 (node's default) ends the handshake with a certificate_required alert.
    expect(code).toBe(protocol === 'grpc' ? grpc.status.UNAVAILABLE : 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED');
  });

  it.each(PROTOCOLS)('%s: still wants the token from a client with a certificate', async (protocol) => {
    expect((await refused(server, protocol, { trustCa: true, clientCert: true })).code).toBe(unauthenticated(protocol));
  });
});

describe('start errors', () => {
  it('names the flag whose file cannot be read', async () => {
    await expect(
      startTestServer(db.url, { 'tls-cert': `${pki.dir}/missing.crt`, 'tls-key': pki.files.serverKey }),
    ).rejects.toThrow(/--tls-cert \S+missing\.crt: cannot read/);
  });
});
