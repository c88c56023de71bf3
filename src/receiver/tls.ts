// TLS for both OTLP transports, after the Collector's configtls: the configuration names PEM files, and
// each receiver loads them once when it starts. Loading also builds a throwaway secure context, so a key
// that does not match its certificate, or a file that is not PEM, stops the start with a message naming
// the flag, instead of surfacing later as handshake failures every client sees and nobody logs.

import { readFile } from 'node:fs/promises';
import tls from 'node:tls';

/** PEM files as configured (`--tls-cert`, `--tls-key`, `--tls-client-ca`). */
export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  /** When set, clients must present a certificate signed by this CA (mutual TLS). */
  readonly clientCaFile?: string;
}

/** The loaded PEM bytes. */
export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly clientCa?: Buffer;
}

/** Reads the files and checks that they make a usable server context; errors name the flag at fault. */
export async function loadTls(files: TlsFiles): Promise<TlsMaterial> {
  const [cert, key, clientCa] = await Promise.all([
    readPem('--tls-cert', files.certFile),
    readPem('--tls-key', files.keyFile),
    files.clientCaFile === undefined ? undefined : readPem('--tls-client-ca', files.clientCaFile),
  ]);
  try {
    tls.createSecureContext({ cert, key });
  } catch (err) {
    // OpenSSL's own words ("key values mismatch", "no start line"), which never include key material.
    throw new Error(`--tls-cert ${files.certFile} and --tls-key ${files.keyFile}: not a usable certificate and key: ${messageOf(err)}`, { cause: err });
  }
  if (clientCa === undefined) return { cert, key };
  try {
    tls.createSecureContext({ ca: clientCa });
  } catch (err) {
    throw new Error(`--tls-client-ca ${files.clientCaFile ?? ''}: not a usable CA certificate: ${messageOf(err)}`, { cause: err });
  }
  // createSecureContext skips text that is not a certificate, so an empty or non-PEM file would pass and
  // then refuse every client certificate: require at least one certificate block.
  if (!clientCa.includes('-----BEGIN CERTIFICATE-----')) {
    throw new Error(`--tls-client-ca ${files.clientCaFile ?? ''}: holds no PEM certificate`);
  }
  return { cert, key, clientCa };
}

async function readPem(flag: string, file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new Error(`${flag} ${file}: cannot read: ${messageOf(err)}`, { cause: err });
  }
}

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));
