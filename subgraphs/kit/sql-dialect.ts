/**
 * What the PostgreSQL engine changes in the SQL a domain writes once for both engines.
 *
 * Repositories write the SQL both engines accept (subqueries in FROM carry an alias, a parameter
 * tested with IS NULL alone is CAST to its type, no engine-only functions), plus two SQLite idioms
 * translated here, so that a domain's SQL stays one text:
 * - placeholders: `?` (positional) and `?N` (numbered, reusable) become `$N`;
 * - key lists bound as one parameter: `x IN (SELECT value FROM json_each(?N))` becomes
 *   `x = ANY($N)` (`NOT IN …` becomes `<> ALL($N)`), and the parameter, a JSON array (`inList`),
 *   is bound as an array: one statement per DataLoader batch on both engines.
 * Migrations (DDL) are translated too: REAL columns become NUMERIC (exact, so ROUND and SUM agree
 * with SQLite's to the cent), `WITHOUT ROWID` is dropped, and foreign keys are checked at commit.
 */
export interface PostgresStatement {
  text: string;
  /** Indexes (0-based) of the parameters that are key lists (JSON arrays to bind as arrays). */
  keyLists: number[];
}

const KEY_LIST = /\b(NOT\s+)?IN\s*\(\s*SELECT\s+value\s+FROM\s+json_each\(\s*\$(\d+)\s*\)\s*\)/gi;

export function toPostgres(sql: string): PostgresStatement {
  let positional = 0;
  let numbered = false;
  let out = '';
  for (let i = 0; i < sql.length; i++) {
    const ch = sql[i]!;
    if (ch === "'" || ch === '"') {
      // A quoted literal or identifier is copied as is (a doubled quote escapes itself).
      const end = closingQuote(sql, i, ch);
      out += sql.slice(i, end + 1);
      i = end;
    } else if (ch === '?') {
      const digits = /^\d+/.exec(sql.slice(i + 1))?.[0];
      if (digits) {
        numbered = true;
        out += `$${digits}`;
        i += digits.length;
      } else out += `$${++positional}`;
      if (numbered && positional) throw new Error(`SQL mixes ? and ?N placeholders: ${sql}`);
    } else out += ch;
  }
  const keyLists: number[] = [];
  const text = out.replace(KEY_LIST, (_, not: string | undefined, n: string) => {
    keyLists.push(Number(n) - 1);
    return not ? `<> ALL($${n})` : `= ANY($${n})`;
  });
  if (/\bjson_each\s*\(/i.test(text)) throw new Error(`json_each is SQLite's: use it only as IN (SELECT value FROM json_each(?)) for a key list: ${sql}`);
  return { text, keyLists };
}

function closingQuote(sql: string, start: number, quote: string): number {
  for (let i = start + 1; i < sql.length; i++) {
    if (sql[i] !== quote) continue;
    if (sql[i + 1] === quote) i++;
    else return i;
  }
  return sql.length - 1;
}

/** A migration written for SQLite, as PostgreSQL DDL. */
export function toPostgresDdl(ddl: string): string {
  return ddl
    .replace(/\)\s*WITHOUT\s+ROWID/gi, ')')
    .replace(/\bREAL\b/g, 'NUMERIC')
    .replace(/\bREFERENCES\s+(\w+)\s*(\([^)]*\))/gi, 'REFERENCES $1 $2 DEFERRABLE INITIALLY DEFERRED');
}
