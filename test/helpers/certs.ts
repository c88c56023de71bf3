// Throwaway PKI for TLS tests, made with the openssl CLI at run time (nothing secret is checked in):
// a CA, a server certificate for 127.0.0.1 and localhost, a client certificate signed by the CA, and a
// client certificate from an unrelated CA (what a mutual-TLS server must refuse).

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface TestPki {
  readonly dir: string;
  /** File paths, for the flags and ReceiverOptions.tls. */
  readonly files: {
    readonly ca: string;
    readonly serverCert: string;
    readonly serverKey: string;
    readonly clientCert: string;
    readonly clientKey: string;
    readonly strangerCert: string;
    readonly strangerKey: string;
  };
  /** The same, read: what clients are given. */
  readonly pem: { readonly [K in keyof TestPki['files']]: Buffer };
  remove(): void;
}

// P-256 keys: generated in milliseconds, where RSA would take noticeably longer on two cores.
const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export function createTestPki(): TestPki {
  const dir = mkdtempSync(path.join(tmpdir(), 'otlp-pg-pki-'));
  const at = (name: string): string => path.join(dir, name);
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  };

  const selfSignedCa = (name: string, cn: string): void => {
    openssl('req', '-x509', ...NEW_KEY, '-keyout', at(`${name}.key`), '-out', at(`${name}.crt`), '-days', '2', '-subj', `/CN=${cn}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  };
  const issue = (name: string, ca: string, cn: string, extensions: string): void => {
    openssl('req', ...NEW_KEY, '-keyout', at(`${name}.key`), '-out', at(`${name}.csr`), '-subj', `/CN=${cn}`);
    writeFileSync(at(`${name}.ext`), extensions);
    openssl('x509', '-req', '-in', at(`${name}.csr`), '-CA', at(`${ca}.crt`), '-CAkey', at(`${ca}.key`), '-CAcreateserial',
      '-out', at(`${name}.crt`), '-days', '2', '-extfile', at(`${name}.ext`));
  };

  selfSignedCa('ca', 'otlp-pg test CA');
  issue('server', 'ca', 'localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  issue('client', 'ca', 'otlp-pg test client', 'extendedKeyUsage=clientAuth\n');
  selfSignedCa('stranger-ca', 'unrelated CA');
  issue('stranger', 'stranger-ca', 'stranger client', 'extendedKeyUsage=clientAuth\n');

  const files = {
    ca: at('ca.crt'),
    serverCert: at('server.crt'),
    serverKey: at('server.key'),
    clientCert: at('client.crt'),
    clientKey: at('client.key'),
    strangerCert: at('stranger.crt'),
    strangerKey: at('stranger.key'),
  };
  const pem = Object.fromEntries(Object.entries(files).map(([k, file]) => [k, readFileSync(file)])) as TestPki['pem'];
  return { dir, files, pem, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
