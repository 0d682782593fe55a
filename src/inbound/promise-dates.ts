// The day a reply refers to ("friday", "next Friday", "the 1st", "mañana",
// "el próximo viernes", "kal", "shukravar ko", "15 तारीख", "5/7"), resolved
// on the debtor's calendar: "tomorrow" written at 14:50 in Honolulu is the
// next day in Honolulu, not in UTC. The clock is passed in (now), the zone is
// the debtor's (or its best guess), and a reading that could mean two days is
// returned with `ambiguous` naming the other, so an agent is asked instead of
// the gateway guessing.
import { DateTime } from 'luxon';

export interface ResolvedDate {
  /** ISO date (YYYY-MM-DD) on the debtor's calendar. */
  date?: string;
  dateText: string;
  /** Another day the text may mean (e.g. "next Friday": this week's or next week's). */
  ambiguous?: string;
}

// Folded (lower case, Latin accents stripped) names → ISO weekday (1 = Monday … 7 = Sunday).
const WEEKDAY_NAMES: [RegExp, number][] = [
  [/monday|mon|lunes|somvar|somwar|सोमवार/, 1],
  [/tuesday|tues|tue|martes|mangalvar|mangalwar|मंगलवार/, 2],
  [/wednesday|wed|miercoles|budhvar|budhwar|बुधवार/, 3],
  [/thursday|thurs|thur|thu|jueves|guruvar|guruwar|brihaspativar|veervar|गुरुवार|बृहस्पतिवार/, 4],
  [/friday|fri|viernes|shukravar|shukrawar|sukravar|shukarvar|शुक्रवार/, 5],
  [/saturday|sat|sabado|shanivar|shaniwar|शनिवार/, 6],
  [/sunday|sun|domingo|ravivar|raviwar|itvar|etvaar|रविवार/, 7],
];
const WEEKDAY = `(${WEEKDAY_NAMES.map(([r]) => r.source).join('|')})`;
const weekdayOf = (name: string) => WEEKDAY_NAMES.find(([r]) => new RegExp(`^(${r.source})$`).test(name))?.[1] ?? 0;

const MONTHS: [RegExp, number][] = [
  [/january|jan|enero|ene/, 1],
  [/february|feb|febrero/, 2],
  [/march|mar|marzo/, 3],
  [/april|apr|abril|abr/, 4],
  [/may|mayo/, 5],
  [/june|jun|junio/, 6],
  [/july|jul|julio/, 7],
  [/august|aug|agosto|ago/, 8],
  [/september|sept|sep|septiembre|setiembre/, 9],
  [/october|oct|octubre/, 10],
  [/november|nov|noviembre/, 11],
  [/december|dec|diciembre|dic/, 12],
];
const MONTH = `(${MONTHS.map(([r]) => r.source).join('|')})`;
const monthOf = (name: string) => MONTHS.find(([r]) => new RegExp(`^(${r.source})$`).test(name))?.[1] ?? 0;

// Letter boundaries that also work for Devanagari (\b does not).
const B = '(?<![\\p{L}\\p{M}\\p{N}])';
const E = '(?![\\p{L}\\p{M}\\p{N}])';
const re = (src: string) => new RegExp(src, 'u');

const NEXT = '(next|the following|el proximo|la proxima|proximo|proxima|el siguiente|agle|agla|agli|अगले|अगला)';
const THIS = '(this|este|esta|el|is|iss|इस|on|by|till|until|hasta|para el)';

const isoOf = (d: DateTime) => d.toISODate()!;

/** The day of month in the current month if not past, else next month's; clamped (with `ambiguous`) when the month is short. */
function dayOfMonth(today: DateTime, day: number, text: string): ResolvedDate | undefined {
  if (day < 1 || day > 31) return undefined;
  let month = today.startOf('month');
  if (day < today.day) month = month.plus({ months: 1 });
  const days = month.daysInMonth ?? 31;
  if (day > days) {
    const clamped = month.set({ day: days });
    const nextMonth = month.plus({ months: 1 });
    const alt = day <= (nextMonth.daysInMonth ?? 31) ? nextMonth.set({ day }) : nextMonth.endOf('month');
    return { date: isoOf(clamped), dateText: text, ambiguous: isoOf(alt) };
  }
  return { date: isoOf(month.set({ day })), dateText: text };
}

/** A month and day in the coming twelve months (yesterday still counts as this year's: a late "paid on the 5th"). */
function upcoming(today: DateTime, month: number, day: number, text: string): ResolvedDate | undefined {
  let d = DateTime.fromObject({ year: today.year, month, day }, { zone: today.zone });
  if (!d.isValid) return undefined;
  if (d < today.minus({ days: 1 })) d = d.plus({ years: 1 });
  return { date: isoOf(d), dateText: text };
}

/** The weekday: the coming one, or with "next" the one in the following week (when that differs, `ambiguous`). */
function weekday(today: DateTime, target: number, next: boolean, text: string): ResolvedDate {
  let delta = (target - today.weekday + 7) % 7;
  const sameDay = delta === 0;
  if (sameDay) delta = 7;
  const coming = today.plus({ days: delta });
  if (sameDay && !next) return { date: isoOf(coming), dateText: text, ambiguous: isoOf(today) };
  if (!next) return { date: isoOf(coming), dateText: text };
  // "Next Friday" on a Monday: people mean this week's Friday or next week's, about half each.
  // Read it as next week's (the literal reading) when the coming one is still this (ISO) week, and say so.
  if (coming.weekNumber === today.weekNumber && coming.weekYear === today.weekYear) {
    return { date: isoOf(coming.plus({ days: 7 })), dateText: text, ambiguous: isoOf(coming) };
  }
  return { date: isoOf(coming), dateText: text };
}

/**
 * The day `folded` (see foldForIntents) refers to, on the calendar of `zone`
 * at `now`. `locale` decides 5/7 (en-US: May 7; elsewhere 5 July).
 */
export function resolveDate(
  folded: string,
  locale: string,
  now: Date,
  zone = 'UTC',
  tense: 'future' | 'past' = 'future',
): ResolvedDate | undefined {
  let today = DateTime.fromJSDate(now, { zone });
  if (!today.isValid) today = DateTime.fromJSDate(now, { zone: 'UTC' });
  today = today.startOf('day');
  let m: RegExpExecArray | null;

  if ((m = /\b(\d{4})-(\d{2})-(\d{2})\b/.exec(folded))) {
    const d = DateTime.fromObject({ year: +m[1]!, month: +m[2]!, day: +m[3]! }, { zone });
    if (d.isValid) return { date: isoOf(d), dateText: m[0] };
  }
  if ((m = re(`${B}(day after tomorrow|pasado manana|parso|parson|परसों)${E}`).exec(folded)))
    return { date: isoOf(today.plus({ days: tense === 'past' ? -2 : 2 })), dateText: m[0] };
  if ((m = re(`${B}(yesterday|ayer|anoche)${E}`).exec(folded)))
    return { date: isoOf(today.minus({ days: 1 })), dateText: m[0] };
  // Hindi "kal" is both yesterday and tomorrow: the tense of the reply decides ("kal pay kar diya" / "kal pay karunga").
  if (tense === 'past' && (m = re(`${B}(kal|kl|कल)${E}`).exec(folded)))
    return { date: isoOf(today.minus({ days: 1 })), dateText: m[0] };
  // "mañana" is also "morning" ("por la mañana", "de la mañana"): only the bare word is tomorrow.
  if ((m = re(`${B}(tomorrow|(?<!(la|por la|de la|en la|esta) )manana|kal|kl|कल)${E}`).exec(folded)))
    return { date: isoOf(today.plus({ days: 1 })), dateText: m[0] };
  if ((m = re(`${B}(today|tonight|this evening|hoy|esta noche|aaj|aj|आज)${E}`).exec(folded)))
    return { date: isoOf(today), dateText: m[0] };
  if (
    (m = re(
      `${B}(end of (the |this )?month|month end|fin de mes|final de mes|finales de mes|(mahine|mahina) ke (ant|aakhir|akhir|last)|महीने के (अंत|आखिर))${E}`,
    ).exec(folded))
  ) {
    return { date: isoOf(today.endOf('month').startOf('day')), dateText: m[0] };
  }
  if (
    (m = re(
      `${B}(next week|la (proxima|siguiente) semana|la semana que viene|agle (hafte|hafta|week)|अगले हफ्ते|अगले सप्ताह)${E}`,
    ).exec(folded))
  ) {
    return { dateText: m[0] }; // a week, not a day: left to the agent
  }
  // "el viernes que viene", "next friday", "agle shukravar", "this friday", "friday".
  if ((m = re(`${B}${WEEKDAY}\\s+(que viene|entrante)${E}`).exec(folded)))
    return weekday(today, weekdayOf(m[1]!), true, m[0]);
  if ((m = re(`${B}(${NEXT}\\s+|${THIS}\\s+)?${WEEKDAY}${E}`).exec(folded))) {
    const name = m[m.length - 1]!;
    return weekday(today, weekdayOf(name), Boolean(m[2]), m[0]);
  }
  // Month names: "march 5", "5 march", "5 de marzo", "marzo 5".
  if ((m = re(`${B}${MONTH}\\.?\\s+(\\d{1,2})(st|nd|rd|th)?${E}`).exec(folded)))
    return upcoming(today, monthOf(m[1]!), +m[2]!, m[0]);
  if ((m = re(`${B}(\\d{1,2})(st|nd|rd|th)?\\s+(of\\s+|de\\s+)?${MONTH}${E}`).exec(folded)))
    return upcoming(today, monthOf(m[4]!), +m[1]!, m[0]);
  if ((m = /\b(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{2,4}))?\b/.exec(folded))) {
    // US writes month/day; most other locales day/month.
    const us = /^en(-us)?$/i.test(locale) || /^en-US$/i.test(locale);
    const [a, b] = [Number(m[1]), Number(m[2])];
    const [month, day] = us ? [a, b] : [b, a];
    if (month >= 1 && month <= 12 && day >= 1 && day <= 31) {
      if (m[3]) {
        const year = m[3].length === 2 ? 2000 + Number(m[3]) : Number(m[3]);
        const d = DateTime.fromObject({ year, month, day }, { zone });
        if (d.isValid) return { date: isoOf(d), dateText: m[0] };
      } else {
        const r = upcoming(today, month, day, m[0]);
        if (r) return r;
      }
    }
  }
  // Day of month: "the 1st", "on the 15th", "el 1", "el primero", "el dia 15", "15 tarikh ko", "15 तारीख".
  if (
    (m = /\b(on |by )?the (\d{1,2})(st|nd|rd|th)\b/.exec(folded)) ||
    (m = /\b(on |by )?(\d{1,2})(st|nd|rd|th)\b/.exec(folded))
  )
    return dayOfMonth(today, +m[2]!, m[0]);
  if ((m = /\bel (primero)( de mes)?\b/.exec(folded))) return dayOfMonth(today, 1, m[0]);
  if (
    (m =
      /\b(el|para el|hasta el) (dia )?(\d{1,2})\b(?! (de la|de la tarde|de la manana|am|pm|horas|hrs|dolares|pesos|usd))/.exec(
        folded,
      ))
  )
    return dayOfMonth(today, +m[3]!, m[0]);
  if ((m = re(`${B}(\\d{1,2}|[०-९]{1,2})\\s*(tarikh|tareekh|tarik|तारीख|तारिख)${E}`).exec(folded))) {
    const digits = m[1]!.replace(/[०-९]/g, (d) => String(d.charCodeAt(0) - 0x0966));
    return dayOfMonth(today, +digits, m[0]);
  }
  return undefined;
}
