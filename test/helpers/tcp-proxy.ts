import net from "node:net";

export interface TcpProxy {
  /** The target URL with host and port replaced by the proxy's. */
  readonly url: string;
  /** Cuts every connection and refuses new ones: the database is "down". */
  cut(): Promise<void>;
  /**
   * A silent partition: connections stay open and new ones are accepted, but no byte goes through in
   * either direction, so a client only notices by its own timeouts. Connections black-holed here stay
   * silent for good (as when a firewall lost their state); restore() lets only new ones through.
   */
  blackhole(): Promise<void>;
  /** Accepts and forwards new connections again, on the same port. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

/** A TCP proxy in front of a PostgreSQL URL, so a test can take the database away from a running app. */
export async function startTcpProxy(targetUrl: string): Promise<TcpProxy> {
  const target = new URL(targetUrl);
  const sockets = new Set<net.Socket>();
  /** Forwarding connections: client → its upstream. */
  const pairs = new Map<net.Socket, net.Socket>();
  let silent = false;
  let server = createServer();
  await listen(server, 0);
  const port = (server.address() as net.AddressInfo).port;
  const url = new URL(targetUrl);
  url.hostname = "127.0.0.1";
  url.port = String(port);

  function track(socket: net.Socket): void {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
  }

  /** Reads and drops everything: the peer's writes succeed, nothing ever answers. */
  function swallow(socket: net.Socket): void {
    socket.unpipe();
    socket.removeAllListeners("data");
    socket.on("data", () => undefined);
    socket.resume();
  }

  function createServer(): net.Server {
    return net.createServer((client) => {
      track(client);
      if (silent) {
        swallow(client);
        return;
      }
      const upstream = net.connect(Number(target.port || 5432), target.hostname);
      track(upstream);
      pairs.set(client, upstream);
      client.pipe(upstream).pipe(client);
      client.on("close", () => {
        pairs.delete(client);
        upstream.destroy();
      });
      upstream.on("close", () => client.destroy());
    });
  }

  const stop = async () => {
    silent = false;
    for (const socket of sockets) socket.destroy();
    if (server.listening) await new Promise((resolve) => server.close(resolve));
  };

  return {
    url: url.toString(),
    cut: stop,
    async blackhole() {
      silent = true;
      for (const [client, upstream] of pairs) {
        swallow(client);
        swallow(upstream);
      }
      pairs.clear();
      if (!server.listening) {
        server = createServer();
        await listen(server, port);
      }
    },
    async restore() {
      silent = false;
      if (!server.listening) {
        server = createServer();
        await listen(server, port);
      }
    },
    close: stop,
  };
}

function listen(server: net.Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
}
