import net from 'node:net';

// Ports are taken below Linux's ephemeral range (ip_local_port_range starts at 32768): the kernel never
// gives one of these to an outgoing connection, so a port found free here stays free until the test's
// server binds it. A port found free by binding port 0 could be taken in between by any connection
// made meanwhile (EADDRINUSE under load). Each vitest worker draws from a block of its own, so two test
// files running at once never pick the same port.
const FIRST = 20_000;
const BLOCK = 2_000;
const worker = Number(process.env.VITEST_POOL_ID ?? 0);
/** Where this process starts in its block: files run one after another in a worker start apart. */
let next = process.pid % BLOCK;

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A TCP port free on loopback right now, that no outgoing connection or other test worker will take. */
export async function freePort(): Promise<number> {
  const base = FIRST + (worker % 6) * BLOCK;
  for (let tried = 0; tried < BLOCK; tried++) {
    const port = base + (next++ % BLOCK);
    if (await isFree(port)) return port;
  }
  throw new Error(`no free port in ${base}–${base + BLOCK - 1}`);
}
