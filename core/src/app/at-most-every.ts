// A warning about a failing dependency (Redis down for the abuse limits, for the Slack replay guard) must not flood
// the log once per request: the wrapped function runs at most once per interval, and calls in between are dropped.
export function atMostEvery<A extends unknown[]>(
  ms: number,
  fn: (...args: A) => void,
  now: () => number = Date.now,
): (...args: A) => void {
  let last = Number.NEGATIVE_INFINITY;
  return (...args) => {
    const t = now();
    if (t - last < ms) return;
    last = t;
    fn(...args);
  };
}
