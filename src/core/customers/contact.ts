import { domainToUnicode } from 'node:url';
import { parsePhoneNumberWithError } from 'libphonenumber-js/max';
import { isRealCalendarDate } from '../fields/types.js';

/** How strictly a phone number is checked; see normalizePhone. */
export type PhoneCheck = 'exists' | 'e164';

const E164 = /^\+[1-9]\d{7,14}$/;
const EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;
/**
 * Characters that show nothing (zero-width spaces and joiners, soft hyphens, word
 * joiners, byte order marks, direction marks) and controls: two addresses that differ
 * only by one look the same to everyone, so none is accepted in an address.
 */
const INVISIBLE = /[\p{Default_Ignorable_Code_Point}\p{Cc}\p{Cf}]/u;
const INVISIBLE_ALL = /[\p{Default_Ignorable_Code_Point}\p{Cc}\p{Cf}]/gu;

/**
 * An address in the one form it is stored and compared in, or why it is not one. The
 * form: trimmed; NFKC (so `é` written as one code point or as `e` and a combining
 * accent, and full-width `ｊｏｓｅ`, are the letters they show); lower-cased; the domain in
 * its Unicode form (IDNA's mapping, so `xn--mnchen-3ya.de` and `münchen.de` are one
 * domain). A domain that IDNA refuses is kept as written.
 */
export function checkEmail(value: string): { email: string } | { problem: string } {
  const trimmed = value.trim();
  const invisible = INVISIBLE.exec(trimmed);
  if (invisible) {
    const code = (invisible[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0');
    return { problem: `must not contain invisible or control characters (found U+${code})` };
  }
  const email = emailForm(trimmed);
  return email === undefined ? { problem: 'must be an email address' } : { email };
}

/** Printable ASCII with no IDNA label: the common case, which no normalisation changes. */
const PLAIN_ASCII = /^[\x21-\x7e]*$/;

function emailForm(value: string): string | undefined {
  const plain = PLAIN_ASCII.test(value) && !value.toLowerCase().includes('xn--');
  const folded = plain
    ? value.toLowerCase()
    : value.normalize('NFKC').toLowerCase().normalize('NFKC');
  if (!EMAIL.test(folded)) return undefined;
  let email = folded;
  if (!plain) {
    const at = folded.lastIndexOf('@');
    const domain = folded.slice(at + 1);
    email = `${folded.slice(0, at + 1)}${domainToUnicode(domain) || domain}`;
  }
  return email.length <= 254 && EMAIL.test(email) ? email : undefined;
}

/** The stored and compared form of an address (see checkEmail), or undefined if it is not one. */
export function normalizeEmail(value: string): string | undefined {
  const checked = checkEmail(value);
  return 'email' in checked ? checked.email : undefined;
}

/**
 * The form an address written before these rules takes now: as checkEmail, with any
 * invisible character dropped (the address it showed). For migrating stored values.
 */
export function storedEmailForm(value: string): string | undefined {
  return emailForm(value.replace(INVISIBLE_ALL, '').trim());
}

/**
 * A phone number in E.164, or undefined. `exists` also asks libphonenumber's full
 * metadata whether the number can exist; `e164` checks only the form, for the platforms
 * whose own APIs accept numbers outside any numbering plan. Either way a number that
 * exists is given in libphonenumber's canonical E.164: a national trunk prefix written
 * after the country code is dropped (`+4407911123456` is `+447911123456`).
 */
export function normalizePhone(value: string, check: PhoneCheck): string | undefined {
  if (!E164.test(value)) return undefined;
  const canonical = canonicalPhone(value);
  if (canonical !== null) return canonical;
  return check === 'e164' ? value : undefined;
}

/**
 * libphonenumber's answers, remembered: parsing a number against the full metadata costs
 * 10-40 µs, and a customer's number comes back with every sync of its profile. Bounded:
 * emptied when full, as the numbers in use are asked about again soon enough.
 */
const phoneAnswers = new Map<string, string | null>();
const PHONE_ANSWERS_MAX = 10_000;

/** The canonical E.164 of a number that exists, or null for one that does not. */
function canonicalPhone(e164: string): string | null {
  let canonical = phoneAnswers.get(e164);
  if (canonical === undefined) {
    canonical = parsedPhone(e164);
    if (phoneAnswers.size >= PHONE_ANSWERS_MAX) phoneAnswers.clear();
    phoneAnswers.set(e164, canonical);
  }
  return canonical;
}

function parsedPhone(e164: string): string | null {
  try {
    const parsed = parsePhoneNumberWithError(e164);
    return parsed.isValid() ? parsed.number : null;
  } catch {
    return null;
  }
}

/** A number written as its digits with no '+' (as some platforms send them), in E.164's form. */
export function e164FromDigits(value: string): string {
  return value.startsWith('+') ? value : `+${value}`;
}

/** Looser input for platforms that take free-form numbers: strips spaces, dots, dashes, parentheses. */
export function compactPhone(value: string): string {
  return value.replace(/[\s.\-()]/g, '');
}

export function isBirthdate(value: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  // Year 0000 is no date PostgreSQL (or ISO 8601 without an agreement) holds.
  return (
    m !== null && Number(m[1]) >= 1 && isRealCalendarDate(Number(m[1]), Number(m[2]), Number(m[3]))
  );
}

/**
 * Whether a value is an IANA time zone, remembered: building an Intl.DateTimeFormat to
 * ask costs about a millisecond, and a platform's sync sends the same few zones with
 * every customer (Redo's upserts ran at 0.4× the native rate on it). Bounded like the
 * phone answers.
 */
const zoneAnswers = new Map<string, boolean>();

export function isTimeZone(value: string): boolean {
  let known = zoneAnswers.get(value);
  if (known === undefined) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: value });
      known = true;
    } catch {
      known = false;
    }
    if (zoneAnswers.size >= PHONE_ANSWERS_MAX) zoneAnswers.clear();
    zoneAnswers.set(value, known);
  }
  return known;
}
