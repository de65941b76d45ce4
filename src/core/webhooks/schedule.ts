/**
 * When a failed delivery is tried again: after the first attempt, 5 s, 5 min, 30 min,
 * 2 h, 5 h, 10 h, 14 h, 20 h and 24 h later (about three days and three hours in all),
 * each wait drawn within ±20 % so that a receiver coming back is not hit by every
 * retry at once. After the last, the delivery is failed.
 */
export const retrySchedule = [5, 300, 1800, 7200, 18_000, 36_000, 50_400, 72_000, 86_400].map(
  (s) => s * 1000,
);

/** The time of the next attempt after `attempts` attempts, or null when none is left. */
export function nextAttemptAt(
  attempts: number,
  schedule: readonly number[],
  now = Date.now(),
  random = Math.random,
): Date | null {
  const wait = schedule[attempts - 1];
  if (wait === undefined) return null;
  return new Date(now + wait * (0.8 + 0.4 * random()));
}

/** An endpoint failing without a break for this long is disabled. */
export const FAILING_DISABLES_AFTER_MS = 5 * 24 * 3600 * 1000;
