/**
 * Settles like `work`, or rejects with `onTimeout()` after `ms`, whichever comes first. The work itself
 * keeps running (a query cannot be called back): its late failure is ignored, its timer always cleared.
 */
export function withDeadline<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  work.catch(() => undefined);
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
