/** setTimeout's largest delay (about 24.8 days): a longer wait is armed again in steps of at most this. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The delay until a token expiring at `expiresAt` (epoch ms) should be checked again: at most
 * MAX_TIMER_MS, 0 once expired, undefined for never. NaN is a time past Date's range (year 275760),
 * which only a far-future `exp` gives: a past one is refused when the token is verified.
 */
export function expiryCheckDelay(expiresAt: number, now: number): number | undefined {
  if (Number.isNaN(expiresAt)) return undefined;
  return Math.min(Math.max(expiresAt - now, 0), MAX_TIMER_MS);
}
