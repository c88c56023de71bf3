// TLS on both receivers, with certificates made by openssl at run time and a fake exporter standing in
// for the pipeline: loading the PEM files (errors name the flag), HTTPS and gRPC over TLS, and mutual TLS.

import * as grpc from '@grpc/grpc-js';
import { writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Signal, SignalRequests } from '../../src/decode/types.js';
import type { Admitted, ExportResult, Exporter } from '../../src/pipeline/types.js';
import { startGrpcReceiver } from '../../src/receiver/grpc.js';
import { startHttpReceiver } from '../../src/receiver/http.js';
import { loadTls, type TlsFiles } from '../../src/receiver/tls.js';
import type { Receiver, ReceiverOptions } from '../../src/receiver/types.js';
import { createTestPki, type TestPki } from '../helpers/certs.js';

const TRACES = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

class FakeExporter implements Exporter {
  calls = 0;
  admit<S extends Signal>(_signal: S): Admitted<S> {
    return {
      export: async (body: Uint8Array, decode: (body: Uint8Array) => SignalRequests[S]): Promise<ExportResult> => {
        decode(body);
        this.calls += 1;
        return { rejected: 0, message: '' };
      },
      cancel: () => undefined,
    };
  }
}

let pki: TestPki;
let serverTls: TlsFiles;
let mutualTls: TlsFiles;
const exporter = new FakeExporter();
const options = (tls: TlsFiles): ReceiverOptions => ({
  host: '127.0.0.1',
  port: 0,
  maxRequestBytes: 1 << 20,
  exporter,
  logger: pino({ level: 'silent' }),
  tls,
});

beforeAll(() => {
  pki = createTestPki();
  serverTls = { certFile: pki.files.serverCert, keyFile: pki.files.serverKey };
  mutualTls = { ...serverTls, clientCaFile: pki.files.ca };
});

afterAll(() => pki.remove());

describe('loadTls', () => {
  it('reads the certificate, key and client CA', async () => {
    const material = await loadTls(mutualTls);
    expect(material.cert.equals(pki.pem.serverCert)).toBe(true);
    expect(material.key.equals(pki.pem.serverKey)).toBe(true);
    expect(material.clientCa?.equals(pki.pem.ca)).toBe(true);
  });

  it.each([
    ['--tls-cert', { certFile: '/nonexistent/server.crt' }],
    ['--tls-key', { keyFile: '/nonexistent/server.key' }],
    ['--tls-client-ca', { clientCaFile: '/nonexistent/ca.crt' }],
  ])('names %s when its file cannot be read', async (flag, override) => {
    await expect(loadTls({ ...mutualTls, ...override })).rejects.toThrow(new RegExp(`^${flag} /nonexistent/\\S+: cannot read: ENOENT`));
  });

  it('refuses a key that does not belong to the certificate', async () => {
    await expect(loadTls({ ...serverTls, keyFile: pki.files.clientKey })).rejects.toThrow(/^--tls-cert .* and --tls-key .*: not a usable certificate and key: .*key values mismatch/);
  });

  it('refuses files that are not PEM', async () => {
    const junk = path.join(pki.dir, 'junk.pem');
    writeFileSync(junk, 'not a certificate\n');
    await expect(loadTls({ ...serverTls, certFile: junk })).rejects.toThrow(/^--tls-cert .*: not a usable certificate and key/);
    await expect(loadTls({ ...serverTls, clientCaFile: junk })).rejects.toThrow(/^--tls-client-ca .*junk\.pem: holds no PEM certificate/);
  });

  it('fails the receiver start, before binding', async () => {
    const broken = { ...serverTls, certFile: '/nonexistent/server.crt' };
    await expect(startHttpReceiver(options(broken))).rejects.toThrow(/^--tls-cert/);
    await expect(startGrpcReceiver(options(broken))).rejects.toThrow(/^--tls-cert/);
  });
});

interface Client {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

/** One HTTPS POST of an empty OTLP/JSON request; resolves with the status or the connection error. */
function httpsPost(receiver: Receiver, client: Client): Promise<number | Error> {
  return new Promise((resolve) => {
    const req = https.request(
      { host: '127.0.0.1', port: receiver.port, path: '/v1/traces', method: 'POST', headers: { 'content-type': 'application/json' }, agent: false, ...client },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', resolve);
    req.end('{}');
  });
}

function grpcExport(receiver: Receiver, credentials: grpc.ChannelCredentials): Promise<grpc.ServiceError | null> {
  const client = new grpc.Client(`127.0.0.1:${receiver.port}`, credentials);
  const deadline = Date.now() + 5000;
  return new Promise((resolve) => {
    client.makeUnaryRequest(TRACES, (b: Buffer) => b, (b: Buffer) => b, Buffer.alloc(0), { deadline }, (err) => {
      client.close();
      resolve(err);
    });
  });
}

describe('HTTP receiver over TLS', () => {
  let receiver: Receiver;
  beforeAll(async () => void (receiver = await startHttpReceiver(options(serverTls))));
  afterAll(() => receiver.shutdown(1000));

  it('serves HTTPS to a client that trusts the CA', async () => {
    expect(receiver.scheme).toBe('https');
    expect(await httpsPost(receiver, { ca: pki.pem.ca })).toBe(200);
  });

  it('fails the handshake of a client that does not trust the certificate', async () => {
    expect(await httpsPost(receiver, {})).toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
  });

  it('does not answer plain HTTP', async () => {
    await expect(fetch(`http://127.0.0.1:${receiver.port}/healthz`)).rejects.toThrow();
  });
});

describe('HTTP receiver with mutual TLS', () => {
  let receiver: Receiver;
  beforeAll(async () => void (receiver = await startHttpReceiver(options(mutualTls))));
  afterAll(() => receiver.shutdown(1000));

  it('serves a client whose certificate the client CA signed', async () => {
    expect(await httpsPost(receiver, { ca: pki.pem.ca, cert: pki.pem.clientCert, key: pki.pem.clientKey })).toBe(200);
  });

  it('refuses a client without a certificate', async () => {
    expect(await httpsPost(receiver, { ca: pki.pem.ca })).toBeInstanceOf(Error);
  });

  it('refuses a client whose certificate another CA signed', async () => {
    expect(await httpsPost(receiver, { ca: pki.pem.ca, cert: pki.pem.strangerCert, key: pki.pem.strangerKey })).toBeInstanceOf(Error);
  });
});

describe('gRPC receiver over TLS', () => {
  let receiver: Receiver;
  beforeAll(async () => void (receiver = await startGrpcReceiver(options(serverTls))));
  afterAll(() => receiver.shutdown(1000));

  it('serves a client that trusts the CA', async () => {
    expect(receiver.scheme).toBe('https');
    expect(await grpcExport(receiver, grpc.credentials.createSsl(pki.pem.ca))).toBeNull();
  });

  it('is unreachable in plain text', async () => {
    expect((await grpcExport(receiver, grpc.credentials.createInsecure()))?.code).toBe(grpc.status.UNAVAILABLE);
  });
});

describe('gRPC receiver with mutual TLS', () => {
  let receiver: Receiver;
  beforeAll(async () => void (receiver = await startGrpcReceiver(options(mutualTls))));
  afterAll(() => receiver.shutdown(1000));

  it('serves a client whose certificate the client CA signed', async () => {
    expect(await grpcExport(receiver, grpc.credentials.createSsl(pki.pem.ca, pki.pem.clientKey, pki.pem.clientCert))).toBeNull();
  });

  it('refuses a client without a certificate', async () => {
    expect((await grpcExport(receiver, grpc.credentials.createSsl(pki.pem.ca)))?.code).toBe(grpc.status.UNAVAILABLE);
  });

  it('refuses a client whose certificate another CA signed', async () => {
    const stranger = grpc.credentials.createSsl(pki.pem.ca, pki.pem.strangerKey, pki.pem.strangerCert);
    expect((await grpcExport(receiver, stranger))?.code).toBe(grpc.status.UNAVAILABLE);
  });
});
