// Test support: a store whose poll reads (listPolls, getPoll) answer only when the test lets them, so a client can
// leave between asking and being joined, which is how a slow store creates ghost subscribers.
import type { Store } from '@livevote/core';

export interface SlowStore {
  store: Store;
  /** From now on, poll reads wait (after reading) until release(). */
  hold(): void;
  release(): void;
  /** Poll reads that have waited at the gate so far. */
  held(): number;
}

export function slowPollReads(inner: Store): SlowStore {
  let gate: Promise<void> | null = null;
  let open = () => {};
  let held = 0;
  const store = new Proxy(inner, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      if (prop !== 'listPolls' && prop !== 'getPoll') return value.bind(target);
      return async (...args: unknown[]) => {
        // Read first, wait after: once released, only promise callbacks stand between the caller and its answer.
        const result = await value.apply(target, args);
        const waitFor = gate;
        if (waitFor) {
          held++;
          await waitFor;
        }
        return result;
      };
    },
  });
  return {
    store,
    hold() {
      gate = new Promise((resolve) => {
        open = resolve;
      });
    },
    release() {
      gate = null;
      open();
    },
    held: () => held,
  };
}
