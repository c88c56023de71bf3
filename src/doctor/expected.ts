// The schema otlp-pg's migrations make, read from their SQL: the indexes that must exist (named,
// primary keys and unique constraints included) and the tables partitioned by day. Read rather than
// listed by hand, so that a new migration's index is checked the day it ships. This is not an SQL
// parser: it knows the statements migrations/ uses (CREATE TABLE/INDEX, DROP, ALTER … ADD/RENAME).
import type { Migration } from '../db/migrate.js';
import type { ExpectedIndex, ExpectedSchema } from './types.js';

const IDENT = String.raw`(?:"[^"]+"|[\w$]+)(?:\s*\.\s*(?:"[^"]+"|[\w$]+))?`;

/** The last part of a possibly schema-qualified, possibly quoted name, as PostgreSQL stores it. */
function name(ident: string): string {
  const last = ident.split('.').pop()?.trim() ?? ident;
  return last.startsWith('"') ? last.slice(1, -1) : last.toLowerCase();
}

/**
 * The statements of a migration, one line each, without comments, with string contents and
 * dollar-quoted bodies emptied (a function body's statements are not the migration's).
 */
function statements(sql: string): string[] {
  let out = '';
  for (let i = 0; i < sql.length; ) {
    const rest = sql.slice(i);
    const skip =
      /^--[^\n]*/.exec(rest) ??
      /^\/\*[\s\S]*?\*\//.exec(rest) ??
      /^'(?:[^']|'')*'/.exec(rest) ??
      /^\$(\w*)\$[\s\S]*?\$\1\$/.exec(rest) ??
      /^"[^"]*"/.exec(rest);
    if (skip) {
      const text = skip[0];
      out += text.startsWith('"') ? text : text.startsWith("'") || text.startsWith('$') ? "''" : ' ';
      i += text.length;
    } else {
      out += sql[i];
      i++;
    }
  }
  return out.split(';').map((s) => s.replace(/\s+/g, ' ').trim()).filter((s) => s !== '');
}

/** Splits a parenthesised list at its top-level commas. */
function topLevelItems(body: string): string[] {
  const items: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of body) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      items.push(current.trim());
      current = '';
    } else {
      current += ch;
    }
  }
  if (current.trim() !== '') items.push(current.trim());
  return items;
}

/** The text between the parenthesis at `open` and its match. */
function parenthesised(text: string, open: number): string {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '(') depth++;
    if (text[i] === ')' && --depth === 0) return text.slice(open + 1, i);
  }
  return text.slice(open + 1);
}

const columns = (list: string): string => topLevelItems(list).map(name).join('_');

/**
 * Indexes a table's constraints make, named as PostgreSQL names them when the constraint has no
 * name of its own: `<table>_pkey`, `<table>_<columns>_key`.
 */
function constraintIndexes(table: string, items: readonly string[]): ExpectedIndex[] {
  const found: ExpectedIndex[] = [];
  for (const item of items) {
    const named = new RegExp(String.raw`^CONSTRAINT (${IDENT}) (PRIMARY KEY|UNIQUE)\b`, 'i').exec(item);
    const tableLevel = /^(PRIMARY KEY|UNIQUE)\s*\(([^)]*)\)/i.exec(item);
    if (named?.[1]) found.push({ name: name(named[1]), table, unique: true });
    else if (tableLevel) {
      const pk = tableLevel[1]?.toUpperCase() === 'PRIMARY KEY';
      found.push({ name: pk ? `${table}_pkey` : `${table}_${columns(tableLevel[2] ?? '')}_key`, table, unique: true });
    } else {
      const column = new RegExp(String.raw`^(${IDENT}) `).exec(item)?.[1];
      if (column === undefined) continue;
      if (/\bPRIMARY KEY\b/i.test(item)) found.push({ name: `${table}_pkey`, table, unique: true });
      else if (/\bUNIQUE\b/i.test(item)) found.push({ name: `${table}_${name(column)}_key`, table, unique: true });
    }
  }
  return found;
}

export function expectedSchema(migrations: readonly Migration[]): ExpectedSchema {
  const indexes = new Map<string, ExpectedIndex>();
  const tables = new Set<string>();
  const partitioned = new Set<string>();
  const dropTable = (t: string): void => {
    tables.delete(t);
    partitioned.delete(t);
    for (const [n, i] of indexes) if (i.table === t) indexes.delete(n);
  };
  const createTable = new RegExp(String.raw`^CREATE (?:UNLOGGED )?TABLE (?:IF NOT EXISTS )?(${IDENT}) ?(\(|PARTITION OF)`, 'i');
  const createIndex = new RegExp(String.raw`^CREATE (UNIQUE )?INDEX (?:CONCURRENTLY )?(?:IF NOT EXISTS )?(${IDENT}) ON (?:ONLY )?(${IDENT})`, 'i');
  const alterAdd = new RegExp(String.raw`^ALTER TABLE (?:ONLY )?(?:IF EXISTS )?(${IDENT}) ADD (.*)$`, 'i');
  const renameIndex = new RegExp(String.raw`^ALTER INDEX (?:IF EXISTS )?(${IDENT}) RENAME TO (${IDENT})`, 'i');

  for (const statement of migrations.flatMap((m) => statements(m.sql))) {
    let m: RegExpExecArray | null;
    if ((m = createTable.exec(statement)) && m[1]) {
      const table = name(m[1]);
      tables.add(table);
      if (m[2] === '(') {
        const open = statement.indexOf('(', m.index + m[0].length - 1);
        const body = parenthesised(statement, open);
        for (const i of constraintIndexes(table, topLevelItems(body))) indexes.set(i.name, i);
        if (/^\s*PARTITION BY RANGE\b/i.test(statement.slice(open + body.length + 2))) partitioned.add(table);
      }
    } else if ((m = createIndex.exec(statement)) && m[2] && m[3]) {
      indexes.set(name(m[2]), { name: name(m[2]), table: name(m[3]), unique: m[1] !== undefined });
    } else if ((m = /^DROP INDEX (?:CONCURRENTLY )?(?:IF EXISTS )?(.*?)(?: CASCADE| RESTRICT)?$/i.exec(statement)) && m[1]) {
      for (const n of m[1].split(',')) indexes.delete(name(n.trim()));
    } else if ((m = /^DROP TABLE (?:IF EXISTS )?(.*?)(?: CASCADE| RESTRICT)?$/i.exec(statement)) && m[1]) {
      for (const n of m[1].split(',')) dropTable(name(n.trim()));
    } else if ((m = alterAdd.exec(statement)) && m[1] && m[2]) {
      for (const i of constraintIndexes(name(m[1]), [m[2].replace(/^COLUMN (?:IF NOT EXISTS )?/i, '')])) indexes.set(i.name, i);
    } else if ((m = renameIndex.exec(statement)) && m[1] && m[2]) {
      const old = indexes.get(name(m[1]));
      if (old) {
        indexes.delete(old.name);
        indexes.set(name(m[2]), { ...old, name: name(m[2]) });
      }
    }
  }
  return { indexes: [...indexes.values()], partitionedTables: [...partitioned], tables: [...tables] };
}
