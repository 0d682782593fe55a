// Text as PostgreSQL can store it and a person can read it. A NUL made the
// message insert fail (SQLSTATE 22021) and the email was retried until its
// attempts ran out, never reaching the thread; lone surrogates (from a broken
// UTF-16 source or a bad decoder) and noncharacters are as useless to a reader.
// Removed, not replaced: nothing a person wrote is lost by dropping them.
import { decode } from 'libmime/lib/charset.js';

// C0 controls other than tab, LF, CR; DEL; lone surrogates; U+FFFE/U+FFFF.
const UNSTORABLE =
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

export function storableText(s: string): string;
export function storableText(s: string | null): string | null;
export function storableText(s: string | null): string | null {
  return s === null ? null : s.replace(UNSTORABLE, '');
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Bytes in a declared charset (any libmime knows: windows-1252, ISO-8859-*,
 * ISO-2022-JP, Shift_JIS, GB18030, KOI8-R …). Undeclared: UTF-8 when the bytes
 * are valid UTF-8, else windows-1252 (the usual undeclared 8-bit text, and
 * every byte means something in it).
 */
export function decodeBytes(bytes: Buffer, charset?: string | null): string {
  if (charset && charset.trim()) return decode(bytes, charset.trim());
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return decode(bytes, 'windows-1252');
  }
}
