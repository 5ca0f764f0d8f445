import type { IncomingMessage, ServerResponse } from "node:http";

/**
 * A middleware on node:http's own request and response, as express runs them: `next()` goes on,
 * `next(error)` (or a throw, or a rejection) fails. Express takes these as they are; the node:http
 * fast paths run them with runSteps.
 */
export type Middleware = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void | Promise<void>;

/** Runs `steps` in order, as express runs a route's middlewares; the first error goes to `fail`. */
export function runSteps(steps: readonly Middleware[], req: IncomingMessage, res: ServerResponse, fail: (error: unknown) => void): void {
  const run = (index: number): void => {
    const step = steps[index];
    if (step === undefined) return;
    try {
      const done = step(req, res, (error?: unknown) => (error === undefined ? run(index + 1) : fail(error)));
      if (done instanceof Promise) done.catch(fail);
    } catch (error) {
      fail(error);
    }
  };
  run(0);
}
