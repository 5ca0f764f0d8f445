import { createClient, type Client } from "graphql-ws";
import type { GraphQLFormattedError } from "graphql";
import WebSocket from "ws";
import { atScopeEnd } from "./scope";

/** Tokens for sockets are the same as for HTTP: one signer (src/auth/token.ts). */
export { signToken } from "./graphql";

export type Received<T> =
  | { readonly kind: "next"; readonly data: T }
  | { readonly kind: "error"; readonly errors: readonly GraphQLFormattedError[] }
  | { readonly kind: "complete" };

export interface CloseInfo {
  readonly code: number;
  readonly reason: string;
}

/** One subscription's messages, queued as they arrive, read in order. */
export class LiveSubscription<T> {
  private readonly queue: Array<Received<T>> = [];
  private readonly waiters: Array<(item: Received<T>) => void> = [];
  /** Every message so far, including those already read. */
  readonly history: Array<Received<T>> = [];

  constructor(readonly unsubscribe: () => void) {}

  push(item: Received<T>): void {
    this.history.push(item);
    const waiter = this.waiters.shift();
    if (waiter) waiter(item);
    else this.queue.push(item);
  }

  /** The next message of any kind, or a rejection after `timeoutMs`. */
  receive(timeoutMs = 10_000): Promise<Received<T>> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`no subscription message within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = (item: Received<T>) => {
        clearTimeout(timer);
        resolve(item);
      };
      this.waiters.push(waiter);
    });
  }

  /** The next event's data; fails if the next message is an error or the end of the subscription. */
  async next(timeoutMs?: number): Promise<T> {
    const item = await this.receive(timeoutMs);
    if (item.kind !== "next") throw new Error(`expected an event, got ${JSON.stringify(item)}`);
    return item.data;
  }

  /** The next `count` events' data, in order. */
  async take(count: number, timeoutMs?: number): Promise<T[]> {
    const items: T[] = [];
    while (items.length < count) items.push(await this.next(timeoutMs));
    return items;
  }

  /** Messages received and not read yet. */
  get pending(): number {
    return this.queue.length;
  }
}

export interface LiveClient {
  readonly client: Client;
  /**
   * Subscribes, then waits until the server surely listens: a query on the same socket makes a round
   * trip after the subscribe message, and a subscription registers without waiting on any I/O.
   */
  subscribe<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>): Promise<LiveSubscription<T>>;
  /** Resolves with the close code and reason when the socket closes. */
  readonly closed: Promise<CloseInfo>;
  /** Resolves once connection_ack arrived. */
  readonly connected: Promise<void>;
  dispose(): Promise<void>;
}

export interface LiveClientOptions {
  /** Sent as `{"Authorization": "Bearer <token>"}`; null sends no connection_init payload. */
  token: string | null;
  /** Raw connection_init payload, instead of the token's. */
  connectionParams?: Record<string, unknown>;
}

/** A real graphql-ws client (protocol graphql-transport-ws) over `ws`, disposed after the test file (or spec). */
export function connectLive(wsUrl: string, options: LiveClientOptions): LiveClient {
  let onClosed!: (info: CloseInfo) => void;
  const closed = new Promise<CloseInfo>((resolve) => (onClosed = resolve));
  let onConnected!: () => void;
  const connected = new Promise<void>((resolve) => (onConnected = resolve));
  const client = createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    lazy: false,
    retryAttempts: 0,
    connectionParams: options.connectionParams ?? (options.token === null ? undefined : { Authorization: `Bearer ${options.token}` }),
    onNonLazyError: () => {},
    on: {
      connected: () => onConnected(),
      closed: (event) => {
        const { code, reason } = event as { code: number; reason: string | Buffer };
        onClosed({ code, reason: String(reason) });
      },
    },
  });
  const dispose = async () => {
    await client.dispose();
  };
  atScopeEnd(dispose);

  const live: LiveClient = {
    client,
    closed,
    connected,
    dispose,
    async subscribe<T>(query: string, variables?: Record<string, unknown>) {
      const subscription: LiveSubscription<T> = new LiveSubscription<T>(
        client.subscribe<T>(
          { query, variables },
          {
            next: (result) => {
              if (result.errors) subscription.push({ kind: "error", errors: result.errors });
              else subscription.push({ kind: "next", data: result.data as T });
            },
            error: (error) => subscription.push({ kind: "error", errors: Array.isArray(error) ? error : [{ message: String(error) }] }),
            complete: () => subscription.push({ kind: "complete" }),
          },
        ),
      );
      await new Promise<void>((resolve, reject) => {
        client.subscribe({ query: "{ __typename }" }, { next: () => {}, error: reject, complete: resolve });
      });
      return subscription;
    },
  };
  return live;
}

/** Resolves with what happened first: the socket closed, or `ms` passed with it still open. */
export async function closedWithin<T>(closed: Promise<T>, ms: number): Promise<T | "still open"> {
  let timer: NodeJS.Timeout | undefined;
  const stillOpen = new Promise<"still open">((resolve) => (timer = setTimeout(() => resolve("still open"), ms)));
  try {
    return await Promise.race([closed, stillOpen]);
  } finally {
    clearTimeout(timer);
  }
}
