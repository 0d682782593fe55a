// Which webhook subscriptions take an event type (the active ones that list
// it, list "*", or list nothing: everything), as the SQL that writes one
// delivery per subscriber. One definition for emitOutgoingEvent and for
// writeMessage, which announces a new message in its own statement.

const takes = (type: string) =>
  `s.active AND (${type} = ANY (s.events) OR '*' = ANY (s.events) OR cardinality(s.events) = 0)`;

/** An INSERT (for a CTE) of one delivery of the envelope (SQL jsonb expression) per subscriber of `type`, returning their ids. */
export function deliveriesSql(type: string, envelope: string): string {
  return `INSERT INTO webhook_deliveries (id, subscription_id, event, payload, next_attempt_at)
      SELECT gen_random_uuid(), s.id, ${type}, ${envelope}, now() FROM webhook_subscriptions s WHERE ${takes(type)}
      RETURNING id`;
}
