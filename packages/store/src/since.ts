/** The times a `since` filter may name: PostgreSQL refuses year 0, and four-digit years end at 9999. */
const SINCE_RANGE = [Date.parse('0001-01-01T00:00:00Z'), Date.parse('9999-12-31T23:59:59.999Z')] as const;

/**
 * A `since` filter (runs created on or after it) from a date (YYYY-MM-DD) or an ISO time, or
 * null when it is not one the store can compare: JavaScript reads '99999-01-01' as a date that
 * PostgreSQL then refuses mid-query, so the range is checked before the store is opened.
 */
export function parseSince(text: string): Date | null {
  const since = new Date(text);
  const time = since.getTime();
  return /^\d{4}-\d{2}-\d{2}/.test(text) && time >= SINCE_RANGE[0] && time <= SINCE_RANGE[1] ? since : null;
}
