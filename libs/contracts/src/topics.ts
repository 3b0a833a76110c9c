/**
 * Every topic Metaweave uses, created explicitly with its partition count and retention
 * (auto-creation is off on the broker). `-1` retention means keep forever.
 */
export interface TopicSpec {
  readonly name: string;
  readonly partitions: number;
  readonly retentionMs: number;
  readonly description: string;
}

const DAY = 24 * 60 * 60 * 1000;

export const TOPICS = {
  csChanges: { name: 'mw.cs.changes', partitions: 6, retentionMs: 14 * DAY, description: 'CS change events of every connector, key connector/anchor' },
  mvEvents: { name: 'mw.mv.events', partitions: 6, retentionMs: -1, description: 'metaverse events, the log the read model is a function of; key MV object id' },
  exportCommands: { name: 'mw.export.commands', partitions: 6, retentionMs: 14 * DAY, description: 'export commands to connectors, key connector/anchor' },
  exportOutcomes: { name: 'mw.export.outcomes', partitions: 6, retentionMs: 30 * DAY, description: 'what became of each export, key connector/anchor' },
  runEvents: { name: 'mw.run.events', partitions: 3, retentionMs: 30 * DAY, description: 'run steps of connectors and the join engine, key connector/partition' },
  passwordCommands: {
    name: 'mw.password.commands',
    partitions: 3,
    // Commands expire within minutes; keep the encrypted payloads no longer than a day.
    retentionMs: DAY,
    description: 'sealed password set/change commands, key connector/domain',
  },
  passwordOutcomes: { name: 'mw.password.outcomes', partitions: 3, retentionMs: 90 * DAY, description: 'password operation outcomes without secrets, key connector/domain' },
} as const satisfies Record<string, TopicSpec>;

/** Where a consumer of `topic` puts what it cannot process. */
export function deadLetterTopic(topic: string): string {
  return `${topic}.dlq`;
}

export function topicSpecs(prefix = ''): TopicSpec[] {
  return Object.values(TOPICS).flatMap((t) => [
    { ...t, name: prefix + t.name },
    { name: deadLetterTopic(prefix + t.name), partitions: 1, retentionMs: 30 * DAY, description: `dead letters of ${t.name}` },
  ]);
}
