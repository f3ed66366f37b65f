/**
 * The PostgreSQL schema of a Mailtime store: the same tables as SQLite (events, stream heads,
 * checkpoints, operations, the temporal index). Migrations run in one transaction under an advisory lock, so several
 * workers starting at once do not race; the version is kept in `mailtime_schema`.
 */
import type { PoolClient } from 'pg'

const V1 = `
CREATE TABLE IF NOT EXISTS events (
  stream TEXT NOT NULL,
  revision INTEGER NOT NULL,
  event_id TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  item_id INTEGER,
  occurred_at BIGINT NOT NULL,
  recorded_at BIGINT NOT NULL,
  data TEXT NOT NULL,
  -- Assigned under a lock held until commit, so positions grow in commit order (see pgEventStore.ts).
  global_position BIGINT UNIQUE,
  PRIMARY KEY (stream, revision)
);
CREATE INDEX IF NOT EXISTS events_item ON events (stream, item_id, revision);
CREATE TABLE IF NOT EXISTS streams (stream TEXT PRIMARY KEY, revision INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS checkpoints (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS operations (
  operation_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  resume_key TEXT,
  type TEXT NOT NULL,
  data TEXT NOT NULL,
  PRIMARY KEY (operation_id, seq)
);
CREATE INDEX IF NOT EXISTS operations_resume ON operations (resume_key) WHERE resume_key IS NOT NULL;
`

/**
 * V2: the temporal index (see pgTemporalIndex.ts). One table holds current and superseded versions
 * (`recorded_to` is null for what is believed now). `fork`, `lower` and `upper` place each version in
 * the same centred interval tree as SQLite's index, so an as-of query reads only the versions that
 * contain the instant, through B-trees.
 */
const V2 = `
CREATE TABLE IF NOT EXISTS item_versions (
  account TEXT NOT NULL,
  item_id INTEGER NOT NULL,
  kind SMALLINT NOT NULL,
  valid_from BIGINT NOT NULL,
  valid_to BIGINT,
  recorded_from BIGINT NOT NULL,
  recorded_to BIGINT,
  fork BIGINT NOT NULL,
  lower BIGINT NOT NULL,
  upper BIGINT NOT NULL,
  cause TEXT NOT NULL,
  event_id TEXT NOT NULL,
  state TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS iv_item ON item_versions (account, item_id, valid_from);
CREATE INDEX IF NOT EXISTS iv_lower ON item_versions (account, kind, fork, lower) WHERE recorded_to IS NULL;
CREATE INDEX IF NOT EXISTS iv_upper ON item_versions (account, kind, fork, upper) WHERE recorded_to IS NULL;
CREATE INDEX IF NOT EXISTS iv_from ON item_versions (account, valid_from);
CREATE INDEX IF NOT EXISTS iv_superseded ON item_versions (account, recorded_to) WHERE recorded_to IS NOT NULL;
`

/**
 * V3: the interval tree's two indexes cover what an as-of query reads (state included), so it runs
 * as index-only scans once VACUUM has marked the pages visible (the index does that after a large
 * catch-up): at 1,000,000 events and 51,000 live items the query went from 480 to 55–90 ms.
 */
const V3 = `
CREATE INDEX IF NOT EXISTS iv_lower_cover ON item_versions (account, kind, fork, lower) INCLUDE (valid_to, recorded_from, item_id, state) WHERE recorded_to IS NULL;
CREATE INDEX IF NOT EXISTS iv_upper_cover ON item_versions (account, kind, fork, upper) INCLUDE (valid_from, recorded_from, item_id, state) WHERE recorded_to IS NULL;
DROP INDEX IF EXISTS iv_lower;
DROP INDEX IF EXISTS iv_upper;
`

/**
 * V4: capture leases (pgLeases.ts). A worker's membership and each account's lease carry an expiry
 * on the database's clock, in milliseconds like every instant of the store.
 */
const V4 = `
CREATE TABLE IF NOT EXISTS capture_workers (
  holder TEXT PRIMARY KEY,
  host TEXT NOT NULL,
  pid INTEGER NOT NULL,
  started_at BIGINT NOT NULL,
  heartbeat_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  last_round_at BIGINT,
  last_error TEXT
);
CREATE TABLE IF NOT EXISTS capture_leases (
  account TEXT PRIMARY KEY,
  holder TEXT,
  acquired_at BIGINT,
  expires_at BIGINT NOT NULL,
  last_capture_at BIGINT,
  last_error TEXT
);
CREATE INDEX IF NOT EXISTS capture_leases_holder ON capture_leases (holder) WHERE holder IS NOT NULL;
`

/** V5: the console's durable jobs (pgJobs.ts). */
const V5 = `
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY,
  verb TEXT NOT NULL,
  same_key TEXT NOT NULL,
  words TEXT NOT NULL,
  params TEXT NOT NULL,
  state TEXT NOT NULL,
  label TEXT NOT NULL,
  done INTEGER NOT NULL DEFAULT 0,
  total INTEGER NOT NULL DEFAULT 0,
  notes TEXT NOT NULL DEFAULT '[]',
  created_at BIGINT NOT NULL,
  started_at BIGINT,
  ended_at BIGINT,
  result TEXT,
  error TEXT,
  status INTEGER,
  holder TEXT,
  lease_expires_at BIGINT,
  attempts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_open ON jobs (created_at) WHERE state IN ('queued', 'running');
CREATE UNIQUE INDEX IF NOT EXISTS jobs_same ON jobs (same_key) WHERE state IN ('queued', 'running');
`

export const PG_SCHEMA_VERSION = 5

export const migratePg = async (c: PoolClient): Promise<void> => {
  await c.query('BEGIN')
  try {
    await c.query('SELECT pg_advisory_xact_lock(7170001)')
    await c.query('CREATE TABLE IF NOT EXISTS mailtime_schema (version INTEGER NOT NULL)')
    const v = (await c.query<{ version: number }>('SELECT version FROM mailtime_schema')).rows[0]?.version ?? 0
    if (v > PG_SCHEMA_VERSION) throw new Error(`store schema version ${v} is newer than this Mailtime (${PG_SCHEMA_VERSION}); upgrade Mailtime`)
    if (v < 1) await c.query(V1)
    if (v < 2) await c.query(V2)
    if (v < 3) await c.query(V3)
    if (v < 4) await c.query(V4)
    if (v < 5) await c.query(V5)
    if (v === 0) await c.query('INSERT INTO mailtime_schema (version) VALUES ($1)', [PG_SCHEMA_VERSION])
    else if (v < PG_SCHEMA_VERSION) await c.query('UPDATE mailtime_schema SET version = $1', [PG_SCHEMA_VERSION])
    await c.query('COMMIT')
  } catch (e) {
    await c.query('ROLLBACK').catch(() => undefined)
    throw e
  }
}
