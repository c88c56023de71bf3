// What `otlp-pg doctor` finds, and the facts it finds it in. The query layer (facts.ts) fills
// Facts from a database session; the checks (check-*.ts) are pure functions of Facts.
import type { Machine } from '../db/settings.js';

/** info: worth knowing, never a problem (slow statements, how to enable pg_stat_statements). */
export type Verdict = 'ok' | 'warn' | 'fail' | 'info';

export interface Finding {
  /** Stable name: `setting.work_mem`, `index.traces_errors_idx`, `partitions.logs`, … */
  readonly check: string;
  readonly verdict: Verdict;
  readonly value: string;
  /** What otlp-pg recommends for this machine; null where a recommendation makes no sense. */
  readonly recommended: string | null;
  /** Why, and what to do about it. */
  readonly detail: string;
}

/** A setting as the doctor's session sees it (so per-database and per-role settings count). */
export interface SettingFact {
  /** As SHOW prints it: `16MB`, `10min`, `on`. */
  readonly text: string;
  /** In base units (bytes, milliseconds) for numeric settings; undefined otherwise. */
  readonly value: number | undefined;
  /** pg_settings.source: where the value comes from (default, configuration file, database, …). */
  readonly source: string;
}

export interface IndexFact {
  readonly table: string;
  /** False when a partitioned index is missing on some partition, or a build failed. */
  readonly valid: boolean;
  /** idx_scan summed over the index's partitions since statistics were last reset. */
  readonly scans: number;
  readonly sizeBytes: number;
}

export interface PartitionFact {
  readonly name: string;
  readonly isDefault: boolean;
  /** Range bounds in epoch ms; null for DEFAULT or a MINVALUE/MAXVALUE bound. */
  readonly from: number | null;
  readonly to: number | null;
}

export interface TableActivity {
  readonly table: string;
  readonly liveTuples: number;
  readonly deadTuples: number;
  /** Rows inserted, updated and deleted since statistics were reset: how busy the table is. */
  readonly writes: number;
  /** The later of last_autovacuum and last_vacuum, epoch ms. */
  readonly lastVacuum: number | null;
}

export interface StatementFact {
  readonly query: string;
  readonly calls: number;
  readonly meanMs: number;
  readonly totalMs: number;
}

export type StatementsFact =
  | { readonly state: 'missing' }
  /** CREATE EXTENSION was run, but the library is not in shared_preload_libraries. */
  | { readonly state: 'not-loaded'; readonly message: string }
  | { readonly state: 'ok'; readonly slowest: readonly StatementFact[] };

export interface Facts {
  /** version(): `PostgreSQL 18.4 on x86_64-pc-linux-gnu, …`. */
  readonly version: string;
  readonly settings: ReadonlyMap<string, SettingFact>;
  readonly connectionsInUse: number;
  /** Null when the database has no otlp_pg_migrations table (never migrated). */
  readonly pendingMigrations: readonly string[] | null;
  /** Existing indexes among those expected, by name. */
  readonly indexes: ReadonlyMap<string, IndexFact>;
  /** Whether each table holding an expected index has any row. */
  readonly tableHasRows: ReadonlyMap<string, boolean>;
  /** Partitions of each partitioned row table. */
  readonly partitions: ReadonlyMap<string, readonly PartitionFact[]>;
  /** Rows in each DEFAULT partition, counted up to DEFAULT_ROWS_COUNTED. */
  readonly defaultRows: ReadonlyMap<string, number>;
  /** otlp-pg's busiest tables (leaf partitions), busiest first. */
  readonly activity: readonly TableActivity[];
  readonly statements: StatementsFact;
}

/** What the checks compare the facts with. */
export interface DoctorContext {
  readonly machine: Machine;
  /** Whether the machine was described by --memory/--cores rather than measured. */
  readonly machineGiven: boolean;
  /** otlp-pg's pools as configured: receiver processes and --pool-max. */
  readonly workers: number;
  readonly poolMax: number;
  readonly partitionDaysAhead: number;
  readonly now: number;
}

/** The schema the migrations make: which indexes must exist, which tables are partitioned by day. */
export interface ExpectedSchema {
  readonly indexes: readonly ExpectedIndex[];
  readonly partitionedTables: readonly string[];
  /** Every table the migrations create (row tables, dictionaries, DEFAULT partitions). */
  readonly tables: readonly string[];
}

export interface ExpectedIndex {
  readonly name: string;
  readonly table: string;
  /** Primary key or unique: it enforces a constraint, so being unscanned says nothing. */
  readonly unique: boolean;
}
