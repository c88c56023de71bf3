// Tests wait for a state, never for a length of time: a loaded machine (CI runs on two busy cores)
// then makes a test slower, never wrong.

/** Between two looks at the state `until` waits for. */
const POLL_MS = 10;

/**
 * Polls `check` until it holds. The bound only names what never came, so it is as long as a test may
 * run (vitest's testTimeout): a state that comes late is still a pass.
 */
export async function until(check: () => boolean | Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`never came: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
