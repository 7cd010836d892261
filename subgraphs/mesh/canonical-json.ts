/**
 * JSON with every object's keys sorted: equal for values that differ only in key order. Linear in
 * the value; null when it cannot be written (nesting deeper than the stack).
 */
export function canonicalJson(value: unknown): string | null {
  try {
    return write(value);
  } catch (error) {
    if (error instanceof RangeError) return null;
    throw error;
  }
}

function write(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(write).join(',')}]`;
  if (isRecord(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${write(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
