// Resources and scopes repeated across requests are decoded and made into rows once (decode/head-memo.ts,
// map/dictionary.ts), and what comes out is what a fresh decode and map of the same bytes gives.
import { describe, expect, it } from 'vitest';
import { decodeRequest, HeadMemo } from '../../src/decode/index.js';
import type { ExportLogsServiceRequest } from '../../src/decode/types.js';
import { DictionaryMemo } from '../../src/map/dictionary.js';
import { mapLogs } from '../../src/map/logs.js';
import { mapTraces } from '../../src/map/traces.js';
import { jsonToProtobuf } from '../helpers/decode-fixtures.js';

const T = '1700000000000000000';

/** A logs request of one record under each of `resources`, scope `lib` at `version`. */
function logsRequest(resources: readonly Record<string, string>[], version = '1.0', schemaUrl = ''): Uint8Array {
  const json = {
    resourceLogs: resources.map((attrs) => ({
      resource: { attributes: Object.entries(attrs).map(([key, v]) => ({ key, value: { stringValue: v } })) },
      schemaUrl,
      scopeLogs: [{ scope: { name: 'lib', version }, logRecords: [{ timeUnixNano: T, body: { stringValue: 'hello' } }] }],
    })),
  };
  return jsonToProtobuf('logs', Buffer.from(JSON.stringify(json)));
}

const decodeLogs = (body: Uint8Array, memo?: HeadMemo): ExportLogsServiceRequest => decodeRequest('logs', body, 'protobuf', memo);
const first = <T>(list: readonly T[]): T => list[0] as T;

describe('HeadMemo', () => {
  it('hands back the object it decoded for the same bytes, equal to a fresh decode', () => {
    const memo = new HeadMemo();
    const body = logsRequest([{ 'service.name': 'a', 'host.name': 'h1' }]);
    const one = decodeLogs(body, memo);
    const two = decodeLogs(logsRequest([{ 'service.name': 'a', 'host.name': 'h1' }]), memo);
    expect(first(two.resourceLogs).resource).toBe(first(one.resourceLogs).resource);
    expect(first(first(two.resourceLogs).scopeLogs).scope).toBe(first(first(one.resourceLogs).scopeLogs).scope);
    expect(two).toEqual(decodeLogs(body));
    expect(memo.size).toBe(2);
  });

  it('decodes a message that differs in one byte afresh', () => {
    const memo = new HeadMemo();
    const one = decodeLogs(logsRequest([{ 'service.name': 'a', 'host.name': 'h1' }], '1.0'), memo);
    const two = decodeLogs(logsRequest([{ 'service.name': 'a', 'host.name': 'h2' }], '1.1'), memo);
    expect(first(two.resourceLogs).resource).not.toBe(first(one.resourceLogs).resource);
    expect(first(two.resourceLogs).resource?.attributes).toEqual([
      { key: 'service.name', value: { kind: 'string', value: 'a' } },
      { key: 'host.name', value: { kind: 'string', value: 'h2' } },
    ]);
    expect(first(first(two.resourceLogs).scopeLogs).scope?.version).toBe('1.1');
    expect(memo.size).toBe(4);
  });

  it('starts over past its byte bound, and what it decodes stays right', () => {
    const memo = new HeadMemo(200);
    const fleet = Array.from({ length: 20 }, (_, i) => ({ 'service.name': 'a', 'host.name': `host-${i}` }));
    const body = logsRequest(fleet);
    for (let round = 0; round < 3; round++) {
      expect(decodeLogs(body, memo)).toEqual(decodeLogs(body));
      expect(memo.size).toBeLessThan(2 * fleet.length);
    }
  });

  it('never holds a message that does not decode: the same bad bytes are refused every time', () => {
    const memo = new HeadMemo();
    const good = Buffer.from(logsRequest([{ 'service.name': 'bad' }]));
    const at = good.indexOf(Buffer.from('bad'));
    const bad = Buffer.from(good);
    bad[at] = 0xff; // not UTF-8
    for (let i = 0; i < 2; i++) expect(() => decodeLogs(bad, memo)).toThrow(/UTF-8/);
    expect(memo.size).toBe(1); // the request's scope, which decoded; not its resource
  });
});

describe('DictionaryMemo', () => {
  it('makes one row per resource and scope object and schema URL, equal to a fresh one', () => {
    const heads = new HeadMemo();
    const dictionary = new DictionaryMemo();
    const body = logsRequest([{ 'service.name': 'a', 'host.name': 'h1' }], '1.0', 'https://example.com/s1');
    const one = mapLogs(decodeLogs(body, heads), dictionary);
    const two = mapLogs(decodeLogs(body, heads), dictionary);
    expect(first(two.rows.resources)).toBe(first(one.rows.resources));
    expect(first(two.rows.scopes)).toBe(first(one.rows.scopes));
    expect(two.rows).toEqual(mapLogs(decodeLogs(body)).rows);

    // The same resource under another schema URL is another row.
    const other = mapLogs(decodeLogs(logsRequest([{ 'service.name': 'a', 'host.name': 'h1' }], '1.0', 'https://example.com/s2'), heads), dictionary);
    expect(first(other.rows.resources).schemaUrl).toBe('https://example.com/s2');
    expect(first(other.rows.resources).resourceId).not.toBe(first(one.rows.resources).resourceId);
  });

  it('counts the strings it had to make storable on every request that carries them, not only the first', () => {
    const heads = new HeadMemo();
    const dictionary = new DictionaryMemo();
    const body = logsRequest([{ 'service.name': 'nul\u0000here' }]);
    const fresh = mapLogs(decodeLogs(body));
    expect(fresh.message).toMatch(/^2 string\(s\) held U\+0000/); // the attribute, and the service_name column
    for (let i = 0; i < 3; i++) expect(mapLogs(decodeLogs(body, heads), dictionary).message).toBe(fresh.message);
  });

  it('serves traces the same rows as logs for one resource', () => {
    const heads = new HeadMemo();
    const dictionary = new DictionaryMemo();
    const logs = mapLogs(decodeLogs(logsRequest([{ 'service.name': 'shared' }]), heads), dictionary);
    const traces = mapTraces(
      decodeRequest(
        'traces',
        jsonToProtobuf(
          'traces',
          Buffer.from(
            JSON.stringify({
              resourceSpans: [
                {
                  resource: { attributes: [{ key: 'service.name', value: { stringValue: 'shared' } }] },
                  scopeSpans: [{ spans: [{ traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', startTimeUnixNano: T, endTimeUnixNano: T }] }],
                },
              ],
            }),
          ),
        ),
        'protobuf',
        heads,
      ),
      dictionary,
    );
    expect(first(traces.rows.resources)).toBe(first(logs.rows.resources));
  });
});
