import type { Engine } from './sql-database.js';

/** Calendar granularity of the mesh's time series (the `Period` enum of the sales and finance schemas). */
export type Period = 'DAY' | 'WEEK' | 'MONTH' | 'QUARTER' | 'YEAR';

/**
 * SQL for a period's bucket label (2025-03-14, 2025-W10, 2025-03, 2025-Q1, 2025) over a column
 * holding an ISO-8601 date or timestamp, or a `YYYY-MM` month at MONTH grain and coarser.
 * Built from fixed strings and a column name from code: never user input. The same SQL on both
 * engines but for weeks (SQLite's `%W`: weeks start on Monday, days before the year's first
 * Monday are week 00; PostgreSQL computes the same number from the day of the year).
 */
export function periodBucket(period: Period, column: string, engine: Engine = 'sqlite'): string {
  switch (period) {
    case 'DAY':
      return `substr(${column}, 1, 10)`;
    case 'WEEK': {
      if (engine === 'sqlite') return `strftime('%Y-W%W', ${column})`;
      const day = `CAST(substr(${column}, 1, 10) AS date)`;
      return `substr(${column}, 1, 4) || '-W' || lpad(CAST((CAST(EXTRACT(DOY FROM ${day}) AS INTEGER) + 7 - CAST(EXTRACT(ISODOW FROM ${day}) AS INTEGER)) / 7 AS TEXT), 2, '0')`;
    }
    case 'MONTH':
      return `substr(${column}, 1, 7)`;
    case 'QUARTER':
      return `substr(${column}, 1, 4) || '-Q' || ((CAST(substr(${column}, 6, 2) AS INTEGER) + 2) / 3)`;
    case 'YEAR':
      return `substr(${column}, 1, 4)`;
  }
}
