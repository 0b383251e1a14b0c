import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy between the ledger and its PostgreSQL, to take the database away without touching
 * the server other test files share: `cut()` drops every connection and refuses new ones, as a
 * restarting or unreachable server does; `restore()` lets connections through again.
 *
 * @example
 * const proxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
 * const url = proxiedUrl(POSTGRES_URL, proxy.port); // the ledger connects here
 * await proxy.cut();     // ECONNRESET on every open connection, ECONNREFUSED on new ones
 * await proxy.restore(); // back
 * await proxy.close();
 */
export interface TcpProxy {
  /** The port the proxy listens on (the same before and after a cut). */
  readonly port: number;
  /** Connections currently open through the proxy. */
  readonly open: number;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let pairs = 0;
  let server: Server | undefined;

  const accept = (client: Socket) => {
    const upstream = connect(target.port, target.host);
    sockets.add(client);
    sockets.add(upstream);
    pairs += 1;
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      pairs -= 1;
      sockets.delete(client);
      sockets.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    client.pipe(upstream);
    upstream.pipe(client);
  };

  const listen = (port: number) =>
    new Promise<Server>((resolve, reject) => {
      const s = createServer(accept);
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => resolve(s));
    });

  server = await listen(0);
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('proxy has no port');
  const port = address.port;

  const stopListening = () =>
    new Promise<void>((resolve) => {
      const s = server;
      server = undefined;
      if (s === undefined) return resolve();
      s.close(() => resolve());
    });

  return {
    port,
    get open() {
      return pairs;
    },
    async cut() {
      const closing = stopListening();
      // A reset, not a polite close: what the client sees when the server goes away at once.
      for (const socket of sockets) socket.resetAndDestroy();
      await closing;
    },
    async restore() {
      if (server === undefined) server = await listen(port);
    },
    async close() {
      const closing = stopListening();
      for (const socket of sockets) socket.destroy();
      await closing;
    },
  };
}

/** The connection string with its host and port replaced by the proxy's. */
export function proxiedUrl(connectionString: string, port: number): string {
  const url = new URL(connectionString);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return url.toString();
}

/** Host and port a connection string points at. */
export function targetOf(connectionString: string): { host: string; port: number } {
  const url = new URL(connectionString);
  return { host: url.hostname, port: url.port === '' ? 5432 : Number(url.port) };
}
