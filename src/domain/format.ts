/**
 * Number, money and time formatting that reads like a dashboard: 12.3k, 1.2M, $4.5k, +4.1%, 2026-06-01 09:30.
 * Money follows the currency's own minor units and times are UTC through Intl, never the machine's locale.
 */

/** 1234 -> "1.2k", 1_234_567 -> "1.2M"; small numbers keep up to `decimals` places. */
export function formatCompact(value: number, decimals = 1): string {
  if (!Number.isFinite(value)) return '–';
  const abs = Math.abs(value);
  const units: Array<[number, string]> = [
    [1e9, 'B'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  for (const [size, suffix] of units) {
    if (abs >= size * 0.9995) {
      const scaled = value / size;
      const digits = Math.abs(scaled) >= 100 ? 0 : decimals;
      return `${trimZeros(scaled.toFixed(digits))}${suffix}`;
    }
  }
  if (Number.isInteger(value)) return String(value);
  return trimZeros(value.toFixed(abs >= 100 ? 0 : abs >= 1 ? decimals : Math.max(decimals, 2)));
}

/** An amount of money with its currency symbol where one is common: 12345 "USD" -> "$12.3k", 500 "JPY" -> "¥500". */
export function formatMoney(value: number, currency: string): string {
  const code = currency.toUpperCase();
  const symbol = SYMBOLS.get(code);
  const sign = value < 0 ? '−' : '';
  const abs = Math.abs(value);
  // Below a thousand the amount is exact, in the currency's own minor units (none for JPY, three for KWD).
  const body = abs >= 1000 ? formatCompact(abs) : abs.toFixed(minorUnits(code));
  return symbol ? `${sign}${symbol}${body}` : `${sign}${body} ${code}`;
}

// Symbols only where they are unambiguous for a reader of any country ($ is USD, never CAD or AUD).
const SYMBOLS = new Map([
  ['USD', '$'],
  ['EUR', '€'],
  ['GBP', '£'],
  ['JPY', '¥'],
  ['INR', '₹'],
  ['BRL', 'R$'],
]);

const MINOR_UNITS = new Map<string, number>();

/** How many decimals the currency's amounts have (ISO 4217 minor units, from Intl): 2 for USD, 0 for JPY. */
export function minorUnits(currency: string): number {
  let digits = MINOR_UNITS.get(currency);
  if (digits === undefined) {
    try {
      digits =
        new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions()
          .maximumFractionDigits ?? 2;
    } catch {
      digits = 2;
    }
    MINOR_UNITS.set(currency, digits);
  }
  return digits;
}

/** Whether `code` is an ISO 4217 currency this runtime knows (USD, EUR, JPY, …; not XYZ). */
export function isCurrencyCode(code: string): boolean {
  return /^[A-Z]{3}$/.test(code) && Intl.supportedValuesOf('currency').includes(code);
}

/** A share as a percentage: 0.4123 -> "41.2%"; a share too small to show reads "<0.1%", never "0%". */
export function formatPercent(share: number, decimals = 1): string {
  if (!Number.isFinite(share)) return '–';
  const text = `${trimZeros((share * 100).toFixed(decimals))}%`;
  if (share > 0 && /^0(\.0*)?%$/.test(text)) return `<${trimZeros((10 ** -decimals).toFixed(decimals))}%`;
  return text;
}

/** A count with its noun: (1, 'person', 'people') -> "1 person", 12345 -> "12.3k people". */
export function formatCount(count: number, one: string, many: string): string {
  return `${formatCompact(count)} ${count === 1 ? one : many}`;
}

const UTC_MINUTE = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'UTC',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

/** A moment as "2026-06-01 09:30" in UTC, whatever the machine's time zone (label it UTC where shown). */
export function formatUtcMinute(time: number | Date): string {
  const parts = Object.fromEntries(UTC_MINUTE.formatToParts(time).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`;
}

/** The UTC calendar date of a moment, "2026-06-01" (file names, cutoffs). */
export function formatUtcDate(time: number | Date): string {
  return formatUtcMinute(time).slice(0, 10);
}

/** A relative change with its sign: (110, 100) -> "+10%"; undefined when there is no base to compare with. */
export function formatChange(current: number, previous: number): string | undefined {
  if (!Number.isFinite(current) || !Number.isFinite(previous) || previous === 0) return undefined;
  const change = (current - previous) / Math.abs(previous);
  const text = formatPercent(Math.abs(change));
  if (text === '0%') return '±0%';
  return `${change >= 0 ? '+' : '−'}${text}`;
}

function trimZeros(text: string): string {
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}
