import type http from "node:http";

/**
 * Stops accepting connections and closes each one once it has no request in progress, so every
 * request the server began to read (even one whose headers are half received) is answered; after
 * `graceMs` the rest are cut. Node's own close() closes only connections between requests (a client
 * that reuses one at that instant had not begun a request); keep-alive connections that finish their
 * request later are swept as they fall idle.
 */
export function closeGracefully(server: http.Server, graceMs = 10_000): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve) => {
    const sweep = setInterval(() => server.closeIdleConnections(), 100);
    const cut = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close(() => {
      clearInterval(sweep);
      clearTimeout(cut);
      resolve();
    });
  });
}
