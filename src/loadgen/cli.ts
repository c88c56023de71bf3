// `otlp-pg loadgen`: parses its own arguments, runs, prints the live line on stderr and the summary
// on stdout. Ctrl-C stops sending and still prints the summary of what was sent.

import { loadgenHelp, parseLoadgenArgs, UsageError, type LoadgenOptions } from './options.js';
import { runLoad } from './run.js';
import { formatSummary, progressLine } from './summary.js';

/**
 * Runs the load generator with `argv` (the arguments after `loadgen`) and returns the exit code:
 * 0 when at least one request was acknowledged, 1 when none was (endpoint down, or every request
 * refused), 2 for bad arguments.
 */
export async function runLoadgen(argv: string[]): Promise<number> {
  let options: LoadgenOptions | undefined;
  try {
    options = parseLoadgenArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`otlp-pg loadgen: ${err.message}\n\n${loadgenHelp()}\n`);
    return 2;
  }
  if (!options) {
    process.stdout.write(`${loadgenHelp()}\n`);
    return 0;
  }

  const tty = process.stderr.isTTY === true;
  const stopper = new AbortController();
  const onSignal = (): void => stopper.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const summary = await runLoad(options, {
      stop: stopper.signal,
      ...(options.quiet
        ? {}
        : {
            // On a terminal the line rewrites itself; piped into a file, it is one line per interval.
            onProgress: (elapsed, total, window, windowSeconds) =>
              process.stderr.write(`${tty ? '\r\x1b[K' : ''}${progressLine(elapsed, total, window, windowSeconds)}${tty ? '' : '\n'}`),
          }),
    });
    if (tty && !options.quiet) process.stderr.write('\n');
    process.stdout.write(options.json ? `${JSON.stringify(summary, null, 2)}\n` : `${formatSummary(summary)}\n`);
    return summary.total.ackedRequests > 0 ? 0 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
