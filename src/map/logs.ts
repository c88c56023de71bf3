import type { ExportLogsServiceRequest, LogRecord } from '../decode/types.js';
import { FRESH, type Dictionary } from './dictionary.js';
import { fitsInt64, isValidId, Rejections, TIME_RANGE } from './rejections.js';
import type { LogRow, LogRows, Mapped, ResourceRow, ScopeRow } from './types.js';
import { storableAttributes, storableString, storableValue, takeReplaced } from './values.js';

function logProblem(record: LogRecord): string | undefined {
  if (!fitsInt64(record.timeUnixNano) || !fitsInt64(record.observedTimeUnixNano)) return TIME_RANGE;
  return undefined;
}

/**
 * ExportLogsServiceRequest → rows for resources, scopes and logs. Pure.
 * Trace context is optional on a log record: absent or malformed ids are stored as NULL, never a
 * reason to refuse the record (the log itself is still worth keeping).
 */
export function mapLogs(request: ExportLogsServiceRequest, dictionary: Dictionary = FRESH): Mapped<LogRows> {
  takeReplaced(); // start counting this request's altered strings
  const resources = new Map<bigint, ResourceRow>();
  const scopes = new Map<bigint, ScopeRow>();
  const logs: LogRow[] = [];
  const rejections = new Rejections();
  let total = 0;

  for (const rl of request.resourceLogs) {
    const resource = dictionary.resource(rl.resource, rl.schemaUrl);
    for (const sl of rl.scopeLogs) {
      const scope = dictionary.scope(sl.scope, sl.schemaUrl);
      for (const record of sl.logRecords) {
        total++;
        const problem = logProblem(record);
        if (problem) {
          rejections.add(problem);
          continue;
        }
        resources.set(resource.resourceId, resource);
        scopes.set(scope.scopeId, scope);
        logs.push({
          // A record without a time is placed by when the collector observed it; the 0 is kept.
          timestampUnixNano: record.timeUnixNano !== 0n ? record.timeUnixNano : record.observedTimeUnixNano,
          timeUnixNano: record.timeUnixNano,
          observedTimeUnixNano: record.observedTimeUnixNano,
          severityNumber: record.severityNumber,
          severityText: storableString(record.severityText),
          body: record.body ? storableValue(record.body) : null,
          attributes: storableAttributes(record.attributes),
          droppedAttributesCount: record.droppedAttributesCount,
          flags: record.flags,
          traceId: isValidId(record.traceId, 16) ? record.traceId : null,
          spanId: isValidId(record.spanId, 8) ? record.spanId : null,
          eventName: storableString(record.eventName),
          serviceName: resource.serviceName,
          resourceId: resource.resourceId,
          scopeId: scope.scopeId,
        });
      }
    }
  }

  return {
    rows: { resources: [...resources.values()], scopes: [...scopes.values()], logs },
    accepted: logs.length,
    weight: logs.length,
    rejected: rejections.total,
    message: rejections.message(total, 'log records', takeReplaced()),
  };
}
