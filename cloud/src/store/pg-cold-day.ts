/**
 * PostgreSQL's compaction of a whole day partition (readings_pYYYYMMDD) in one transaction, read by
 * binary COPY and emptied by TRUNCATE instead of a DELETE of every row (issue #19: the per-row DELETE,
 * its WAL and the index entries it leaves to vacuum cost more than reading the rows).
 *
 *   BEGIN ─▶ advisory locks (series, day), sorted ─▶ S = pg_current_snapshot(); series with a block already
 *   ─▶ per 32 series: binary COPY (series, ts, ctid order) ─▶ stream-parsed, each series merged with its old
 *      block and encoded as it completes ─▶ blocks upserted (version + 1)
 *   ─▶ LOCK the partition (in-flight commits finish first, later ones wait) ─▶ as many rows as were read?
 *        yes: TRUNCATE           no (late rows): DELETE only the taken rows, VACUUM after the commit
 *   ─▶ COMMIT
 *
 * Late data: a commit into the day while this runs is not blocked until the final LOCK. "Taken" is a row
 * of a compacted series whose inserting transaction is visible in S, the snapshot taken before any
 * COPY: every such row was read (rows are only inserted, and compactors of a day exclude each other).
 * A row committed after S stays hot even if a COPY read it too; the read path merges hot over cold at an
 * equal ts and the next compaction merges it into the block, so it is neither lost nor doubled.
 */
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import type { BlockColumns } from '@lifeline/shared';
import { checkout, type Sql } from './sql.js';
import { DAY, blobParam, decodeAll, encode, toBytes } from './sql-cold-block.js';
import { mergeColumns } from './sql-cold-write.js';

/** Series read by one COPY (its blocks are upserted before the next COPY: one chunk's blocks in memory). */
const SERIES_PER_COPY = 32;

/**
 * A row's xmin as xid8, from the next transaction id of a snapshot taken once per statement (under the final
 * lock, so above every xmin in the table, each within 2^31 of it): that id less the 32-bit distance. (Not our
 * own transaction's id: a late commit may have got a later one.)
 */
const NEXT = '(SELECT CAST(CAST(pg_snapshot_xmax(pg_current_snapshot()) AS text) AS bigint))';
const XMIN8 = `CAST(CAST(${NEXT} - ((${NEXT} & 4294967295) - CAST(CAST(xmin AS text) AS bigint) + 4294967296) % 4294967296 AS text) AS xid8)`;
/** Rows compaction took: of a compacted series ($1), inserted by a transaction visible in the snapshot $2. */
const TAKEN = `series = ANY(CAST($1 AS integer[])) AND pg_visible_in_snapshot(${XMIN8}, CAST($2 AS pg_snapshot))`;

const UPSERT = `INSERT INTO readings_cold(series, day, first_ts, last_ts, readings, bytes, version, data) VALUES ($1, $2, $3, $4, $5, $6, 1, $7)
  ON CONFLICT(series, day) DO UPDATE SET first_ts = excluded.first_ts, last_ts = excluded.last_ts, readings = excluded.readings,
    bytes = excluded.bytes, version = readings_cold.version + 1, data = excluded.data`;

export interface DayCompaction {
  seriesDays: number;
  readings: number;
  bytes: number;
}

/** Compact every listed series of one day partition `table` (a name made by the store, never input). */
export async function compactPartitionDay(pool: pg.Pool, table: string, day: number, series: number[]): Promise<DayCompaction> {
  const ids = [...new Set(series)].sort((a, b) => a - b);
  const out: DayCompaction = { seriesDays: 0, readings: 0, bytes: 0 };
  const done: number[] = [];
  const { client, release } = await checkout(pool);
  let dead: unknown;
  let partial = false;
  try {
    await client.query('BEGIN');
    // Per-series compaction (the default partition's days) and retention's rewrite of a block lock (series, day) too.
    await client.query('SELECT count(pg_advisory_xact_lock(s, $2)) FROM (SELECT s FROM unnest(CAST($1 AS integer[])) AS s ORDER BY s) AS x', [ids, day]);
    const head = (await client.query('SELECT CAST(pg_current_snapshot() AS text) AS snap, ARRAY(SELECT series FROM readings_cold WHERE day = $1) AS old', [day])).rows[0] as {
      snap: string;
      old: number[];
    };
    const hasOld = new Set(head.old.map(Number));
    for (let i = 0; i < ids.length; i += SERIES_PER_COPY) {
      const chunk = ids.slice(i, i + SERIES_PER_COPY);
      const old = new Map<number, BlockColumns>();
      const withOld = chunk.filter((s) => hasOld.has(s));
      if (withOld.length)
        for (const r of (await client.query('SELECT series, data FROM readings_cold WHERE day = $1 AND series = ANY(CAST($2 AS integer[]))', [day, withOld])).rows)
          old.set(Number(r.series), decodeAll(toBytes(r.data)));
      const blocks: unknown[][] = [];
      // Integers from the store, not input: COPY takes no parameters.
      await copyRows(client, `COPY (SELECT series, ts, value, quality FROM ${table} WHERE series = ANY('{${chunk.join(',')}}') ORDER BY series, ts, ctid) TO STDOUT (FORMAT binary)`, (s, hot) => {
        const merged = mergeColumns(old.get(s), hot);
        const data = encode(merged);
        const n = merged.ts.length;
        blocks.push([s, day, merged.ts[0], merged.ts[n - 1], n, data.length, blobParam(data)]);
        done.push(s);
        out.readings += hot.ts.length;
        out.bytes += data.length;
      });
      for (const b of blocks) await client.query(UPSERT, b);
    }
    out.seriesDays = done.length;
    await client.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
    // Rows leave a day only under their series' locks, held here (compaction), or by DROP (retention, which waits for
    // this transaction): every row read is still there, so as many rows as were read means each is in a block.
    if (Number((await client.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n) === out.readings) await client.query(`TRUNCATE ${table}`);
    else {
      await client.query(`DELETE FROM ${table} WHERE ${TAKEN}`, [done, head.snap]);
      partial = true;
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch((e: unknown) => (dead = e));
    throw err;
  } finally {
    release(dead);
  }
  if (partial) await pool.query(`VACUUM ${table}`);
  return out;
}

/** Run a binary COPY of (series int4, ts int8, value float8 | null, quality int2) rows ordered by series, ts; `emit` gets each series' columns (reused after it returns). */
function copyRows(client: pg.PoolClient, sql: string, emit: (series: number, cols: BlockColumns) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const parser = new CopyParser(emit);
    let failed: unknown;
    const stream = client.query(copyTo(sql));
    stream.on('data', (b: Buffer) => {
      if (failed) return; // the COPY is read to its end: the connection stays usable for the ROLLBACK
      try {
        parser.push(b);
      } catch (err) {
        failed = err;
      }
    });
    stream.on('error', reject);
    stream.on('end', () => {
      try {
        if (failed) throw failed;
        parser.end();
        resolve();
      } catch (err) {
        reject(err);
      }
    });
  });
}

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/** PostgreSQL's binary COPY format, four columns, parsed as chunks arrive (a row may straddle two). */
class CopyParser {
  private rest: Buffer | undefined;
  private started = false;
  private ended = false;
  private series = -1;
  private n = 0;
  private ts = new Float64Array(1 << 17);
  private values = new Float64Array(1 << 17);
  private quality = new Uint16Array(1 << 17);

  constructor(private readonly emit: (series: number, cols: BlockColumns) => void) {}

  push(chunk: Buffer): void {
    const b = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
    let o = 0;
    if (!this.started) {
      if (b.length < 19) return void (this.rest = b);
      if (!b.subarray(0, 11).equals(SIGNATURE)) throw new Error('COPY: not PostgreSQL binary COPY output');
      o = 19 + b.readInt32BE(15);
      this.started = true;
    }
    while (!this.ended && b.length - o >= 2) {
      const fields = b.readInt16BE(o);
      if (fields === -1) {
        this.ended = true;
        o += 2;
        break;
      }
      if (b.length - o < 26) break;
      const vlen = b.readInt32BE(o + 22);
      const size = 32 + Math.max(vlen, 0);
      if (b.length - o < size) break;
      if (fields !== 4 || b.readInt32BE(o + 2) !== 4 || b.readInt32BE(o + 10) !== 8 || (vlen !== 8 && vlen !== -1) || b.readInt32BE(o + size - 6) !== 2)
        throw new Error(`COPY: a row is not (series int4, ts int8, value float8, quality int2): ${fields} fields, value length ${vlen}`);
      const s = b.readInt32BE(o + 6);
      if (s !== this.series) this.flush(s);
      this.grow();
      const k = this.n++;
      this.ts[k] = b.readInt32BE(o + 14) * 4294967296 + b.readUInt32BE(o + 18);
      this.values[k] = vlen < 0 ? NaN : b.readDoubleBE(o + 26);
      this.quality[k] = b.readInt16BE(o + size - 2);
      o += size;
    }
    this.rest = o < b.length ? b.subarray(o) : undefined;
  }

  end(): void {
    if (!this.ended) throw new Error('COPY: output ended before its trailer');
    this.flush(-1);
  }

  private flush(next: number): void {
    if (this.n) this.emit(this.series, { ts: this.ts.subarray(0, this.n), values: this.values.subarray(0, this.n), quality: this.quality.subarray(0, this.n) });
    this.series = next;
    this.n = 0;
  }

  private grow(): void {
    if (this.n < this.ts.length) return;
    const m = this.ts.length * 2;
    const ts = new Float64Array(m);
    const values = new Float64Array(m);
    const quality = new Uint16Array(m);
    ts.set(this.ts);
    values.set(this.values);
    quality.set(this.quality);
    Object.assign(this, { ts, values, quality });
  }
}

/** (series, day) pairs holding hot rows older than `before`: day partitions by a loose index scan (one probe per series), then the default partition. */
export async function partitionCandidates(sql: Sql, days: number[], before: number, name: (day: number) => string): Promise<{ series: number; day: number }[]> {
  const out: { series: number; day: number }[] = [];
  for (const day of days) {
    if ((day + 1) * DAY > before) break;
    const t = name(day);
    const rows = await sql.all<{ s: number }>(
      `WITH RECURSIVE t(s) AS (SELECT MIN(series) FROM ${t} UNION ALL SELECT (SELECT MIN(series) FROM ${t} WHERE series > t.s) FROM t WHERE t.s IS NOT NULL)
       SELECT s FROM t WHERE s IS NOT NULL`,
    );
    for (const r of rows) out.push({ series: Number(r.s), day });
  }
  const stray = await sql.all<{ series: number; day: number }>(`SELECT DISTINCT series, CAST(ts / ${DAY} AS BIGINT) AS day FROM readings_default WHERE ts < ?`, [before]);
  for (const r of stray) out.push({ series: Number(r.series), day: Number(r.day) });
  return out;
}
