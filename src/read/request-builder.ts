// Rows → one OTLP Export*ServiceRequest at a time, grouped as OTLP nests them: resource → scope →
// items (spans, log records), or for metrics resource → scope → metric → data points. Items arrive in
// row order; each request holds at most `limit` of them, so memory is bounded by the batch size.
import type { Rendered } from './dictionary.js';

/** The JSON keys that nest a signal's items (opentelemetry/proto/collector/<signal>/v1). */
export interface RequestShape {
  readonly resourceList: string;
  readonly scopeList: string;
  readonly itemList: string;
}

/**
 * A container of items inside a scope: a metric, whose text is `open` + points + `close`. Spans and
 * log records sit directly in their scope: they all share NO_GROUP.
 */
export interface Group {
  readonly key: string;
  readonly open: string;
  readonly close: string;
}

export const NO_GROUP: Group = { key: '', open: '', close: '' };

/** One row's contribution: an item in its group, or (item undefined) a group with no items of its own. */
export interface Entry {
  readonly resource: Rendered;
  readonly scope: Rendered;
  readonly group: Group;
  readonly item: string | undefined;
}

interface ScopeGroups {
  readonly scope: Rendered;
  readonly groups: Map<string, { readonly group: Group; readonly items: string[] }>;
}

export class RequestBuilder {
  private resources = new Map<string, { readonly resource: Rendered; readonly scopes: Map<string, ScopeGroups> }>();
  private count = 0;

  constructor(private readonly shape: RequestShape) {}

  /** Entries held: items, plus groups added without one (each counts as one). */
  get size(): number {
    return this.count;
  }

  add(entry: Entry): void {
    let r = this.resources.get(entry.resource.id);
    if (!r) {
      r = { resource: entry.resource, scopes: new Map() };
      this.resources.set(entry.resource.id, r);
    }
    let s = r.scopes.get(entry.scope.id);
    if (!s) {
      s = { scope: entry.scope, groups: new Map() };
      r.scopes.set(entry.scope.id, s);
    }
    let g = s.groups.get(entry.group.key);
    if (!g) {
      g = { group: entry.group, items: [] };
      s.groups.set(entry.group.key, g);
    }
    if (entry.item !== undefined) g.items.push(entry.item);
    this.count++;
  }

  /** The request text of everything added since the last take(), or undefined when nothing was. */
  take(): string | undefined {
    if (this.count === 0) return undefined;
    const { resourceList, scopeList, itemList } = this.shape;
    const resources: string[] = [];
    for (const { resource, scopes } of this.resources.values()) {
      const scopeTexts: string[] = [];
      for (const { scope, groups } of scopes.values()) {
        const groupTexts: string[] = [];
        for (const { group, items } of groups.values()) groupTexts.push(group.open + items.join(',') + group.close);
        const url = scope.schemaUrl === '' ? '' : `,"schemaUrl":${JSON.stringify(scope.schemaUrl)}`;
        scopeTexts.push(`{"scope":${scope.json},"${itemList}":[${groupTexts.join(',')}]${url}}`);
      }
      const url = resource.schemaUrl === '' ? '' : `,"schemaUrl":${JSON.stringify(resource.schemaUrl)}`;
      resources.push(`{"resource":${resource.json},"${scopeList}":[${scopeTexts.join(',')}]${url}}`);
    }
    this.resources = new Map();
    this.count = 0;
    return `{"${resourceList}":[${resources.join(',')}]}`;
  }
}
