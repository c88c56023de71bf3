// A stand-in for the pipeline in receiver tests: records what it was handed and answers with
// `outcome` (a result, or an error to throw). No database is involved in those tests.
import type { Signal, SignalRequests } from '../../src/decode/types.js';
import type { Admitted, ExportResult, Exporter } from '../../src/pipeline/types.js';

export class FakeExporter implements Exporter {
  calls: { signal: Signal; request: SignalRequests[Signal]; bytes: number }[] = [];
  outcome: ExportResult | Error = { rejected: 0, message: '' };
  /** When set, admission throws it: the request is refused before its body is read. */
  refusal: Error | undefined;
  /** Places taken and not yet given back by export or cancel. */
  held = 0;
  /** When set, export waits for it before answering. */
  gate: Promise<void> | undefined;

  admit<S extends Signal>(signal: S): Admitted<S> {
    if (this.refusal) throw this.refusal;
    this.held++;
    let used = false;
    return {
      export: async (body, decode) => {
        used = true;
        this.held--;
        this.calls.push({ signal, request: decode(body), bytes: body.length });
        await this.gate;
        if (this.outcome instanceof Error) throw this.outcome;
        return this.outcome;
      },
      cancel: () => {
        if (!used) this.held--;
        used = true;
      },
    };
  }
}
