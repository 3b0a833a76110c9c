/**
 * Five-field cron (minute hour day-of-month month day-of-week, local time of the service) for run
 * profile schedules: `*`, numbers, ranges `a-b`, lists `a,b`, steps `*\/n` and `a-b/n`. Day-of-week
 * 0 or 7 is Sunday; when both day fields are restricted, either may match (as cron does).
 */
export interface Cron {
  readonly expression: string;
  matches(at: Date): boolean;
  /** The first whole minute strictly after `after` that matches. */
  next(after: Date): Date;
}

const FIELDS: ReadonlyArray<[name: string, min: number, max: number]> = [
  ['minute', 0, 59],
  ['hour', 0, 23],
  ['day of month', 1, 31],
  ['month', 1, 12],
  ['day of week', 0, 7],
];

export class CronError extends Error {
  constructor(expression: string, reason: string) {
    super(`invalid cron '${expression}': ${reason} (expected 5 fields: minute hour day-of-month month day-of-week, e.g. '0 2 * * *')`);
    this.name = 'CronError';
  }
}

export function parseCron(expression: string): Cron {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 5) throw new CronError(expression, `${parts.length} fields`);
  const sets = parts.map((part, i) => {
    const [name, min, max] = FIELDS[i]!;
    const values = new Set<number>();
    for (const item of part.split(',')) {
      const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(item);
      if (!m) throw new CronError(expression, `${name} '${item}' is not a number, range, list or step`);
      const lo = m[1] === '*' ? min : Number(m[2]);
      const hi = m[1] === '*' ? max : m[3] !== undefined ? Number(m[3]) : m[4] !== undefined ? max : lo;
      const step = m[4] !== undefined ? Number(m[4]) : 1;
      if (lo < min || hi > max || lo > hi || step < 1) throw new CronError(expression, `${name} '${item}' outside ${min}-${max}`);
      for (let v = lo; v <= hi; v += step) values.add(i === 4 && v === 7 ? 0 : v);
    }
    return { values, any: part === '*' };
  });
  const [minute, hour, dom, month, dow] = sets as [(typeof sets)[0], (typeof sets)[0], (typeof sets)[0], (typeof sets)[0], (typeof sets)[0]];
  const matches = (at: Date) => {
    const day = dom.any || dow.any ? dom.values.has(at.getDate()) && dow.values.has(at.getDay()) : dom.values.has(at.getDate()) || dow.values.has(at.getDay());
    return minute.values.has(at.getMinutes()) && hour.values.has(at.getHours()) && month.values.has(at.getMonth() + 1) && day;
  };
  const cron: Cron = {
    expression,
    matches,
    next(after: Date): Date {
      const t = new Date(after.getTime());
      t.setSeconds(0, 0);
      for (let i = 0; i < 366 * 24 * 60; i++) {
        t.setMinutes(t.getMinutes() + 1);
        if (matches(t)) return new Date(t.getTime());
      }
      throw new CronError(expression, 'never matches within a year');
    },
  };
  // 31 February and the like: refused when configured, not when the schedule first fires
  for (let y = 0, from = new Date(2024, 0, 1); y < 5; y++, from = new Date(2024 + y, 0, 1)) {
    try {
      cron.next(from);
      return cron;
    } catch {
      // a leap-year-only day: try the next year
    }
  }
  throw new CronError(expression, 'never matches');
}
