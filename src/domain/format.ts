/** Number formatting that reads like a dashboard: 12.3k, 1.2M, $4.5k, +4.1%. */

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

/** An amount of money with its currency symbol where one is common: 12345 "USD" -> "$12.3k". */
export function formatMoney(value: number, currency: string): string {
  const symbols: Record<string, string> = { USD: '$', EUR: '€', GBP: '£', JPY: '¥', INR: '₹', BRL: 'R$' };
  const symbol = symbols[currency.toUpperCase()];
  const sign = value < 0 ? '-' : '';
  const body = Math.abs(value) >= 1000 ? formatCompact(Math.abs(value)) : Math.abs(value).toFixed(2);
  return symbol ? `${sign}${symbol}${body}` : `${sign}${body} ${currency.toUpperCase()}`;
}

/** A share as a percentage: 0.4123 -> "41.2%". */
export function formatPercent(share: number, decimals = 1): string {
  if (!Number.isFinite(share)) return '–';
  return `${trimZeros((share * 100).toFixed(decimals))}%`;
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
