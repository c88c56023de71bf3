// Tests wait for a state, never for a length of time: a loaded machine (CI runs on two busy cores)
// then makes a test slower, never wrong.

/** Between two looks at the state `until` waits for. */
const POLL_MS = 10;

/**
 * As long as a state may take to come: a little under vitest's testTimeout, so that what never came
 * is named rather than the test timing out.
 */
export const PATIENCE_MS = 170_000;

/**
 * Polls `check` until it holds. The bound only names what never came: a state that comes late is
 * still a pass.
 */
export async function until(check: () => boolean | Promise<boolean>, what: string, ms = PATIENCE_MS): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`never came: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
