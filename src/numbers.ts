// Strict reading and printing of 32-bit capability words for the commands
// beyond the original (explain). The original's own commands keep glibc's
// atoi (atoi.ts); a new command may refuse what atoi would silently misread.

const MAX_WORD = 0xffffffff;

/**
 * A decimal ("771913119", leading zeros allowed as atoi reads them) or 0x-hex
 * ("0x2e02759f") number from 0 to 4294967295; null for anything else (sign,
 * white space, trailing garbage, empty, too large).
 */
export function parseWord(text: string): number | null {
  let digits: string;
  let radix: 10 | 16;
  if (/^0[xX][0-9a-fA-F]+$/.test(text)) {
    digits = text.slice(2);
    radix = 16;
  } else if (/^[0-9]+$/.test(text)) {
    digits = text;
    radix = 10;
  } else {
    return null;
  }
  digits = digits.replace(/^0+(?=.)/, "");
  // Longer than the widest 32-bit value: out of range (and no precision games).
  if (digits.length > (radix === 16 ? 8 : 10)) return null;
  const value = Number.parseInt(digits, radix);
  return value <= MAX_WORD ? value : null;
}

/** The error line for a word that parseWord refused. */
export const wordError = (command: string, what: string, text: string): string =>
  `vzcptcheck ${command}: invalid ${what} ${JSON.stringify(text)}: ` +
  `expected a decimal or 0x-hex number from 0 to ${MAX_WORD}\n`;

/** "0x2e02759f": eight hex digits, as words are usually compared by eye. */
export const hex32 = (word: number): string => `0x${(word >>> 0).toString(16).padStart(8, "0")}`;
