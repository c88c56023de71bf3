// A stand-in for the pipeline in receiver tests: records what it was handed and answers with
// `outcome` (a result, or an error to throw). No database is involved in those tests.
import type { Signal, SignalRequests } from '../../src/decode/types.js';
import type { ExportResult, Exporter } from '../../src/pipeline/types.js';

export class FakeExporter implements Exporter {
  calls: { signal: Signal; request: SignalRequests[Signal]; bytes: number }[] = [];
  outcome: ExportResult | Error = { rejected: 0, message: '' };
  /** When set, export waits for it before answering. */
  gate: Promise<void> | undefined;

  async export<S extends Signal>(signal: S, body: Uint8Array, decode: (body: Uint8Array) => SignalRequests[S]): Promise<ExportResult> {
    this.calls.push({ signal, request: decode(body), bytes: body.length });
    await this.gate;
    if (this.outcome instanceof Error) throw this.outcome;
    return this.outcome;
  }
}
