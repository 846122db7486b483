// glibc's atoi(): (int) strtol(s, NULL, 10).
// Skips leading white space, takes one optional sign and decimal digits up to
// the first non-digit; no digits give 0; a value beyond long (64-bit) clamps to
// LONG_MAX / LONG_MIN; the long is then cut to its low 32 bits.

const LONG_MAX = (1n << 63n) - 1n;
const LONG_MIN = -(1n << 63n);

const isSpace = (c: number): boolean => c === 0x20 || (c >= 0x09 && c <= 0x0d);
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;

export function atoi(s: string): number {
  let i = 0;
  while (i < s.length && isSpace(s.charCodeAt(i))) i++;
  let negative = false;
  const sign = s.charCodeAt(i);
  if (sign === 0x2b || sign === 0x2d) {
    negative = sign === 0x2d;
    i++;
  }
  const start = i;
  while (i < s.length && isDigit(s.charCodeAt(i))) i++;
  if (i === start) return 0;
  // Strip leading zeros so that a long run of them cannot make BigInt slow.
  let digits = s.slice(start, i).replace(/^0+/, "");
  if (digits.length > 20) digits = "99999999999999999999"; // beyond long either way
  let value = BigInt(digits || "0");
  if (negative) value = -value;
  if (value > LONG_MAX) value = LONG_MAX;
  if (value < LONG_MIN) value = LONG_MIN;
  return Number(BigInt.asIntN(32, value));
}
