import { isValidPhoneNumber } from 'libphonenumber-js/max';
import { isRealCalendarDate } from '../fields/types.js';

/** How strictly a phone number is checked; see normalizePhone. */
export type PhoneCheck = 'exists' | 'e164';

const E164 = /^\+[1-9]\d{7,14}$/;
const EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;

/** Trimmed, lower-cased address, or undefined if it does not look like one. */
export function normalizeEmail(value: string): string | undefined {
  const email = value.trim().toLowerCase();
  return email.length <= 254 && EMAIL.test(email) ? email : undefined;
}

/**
 * A phone number in E.164, or undefined. `exists` also asks libphonenumber's full
 * metadata whether the number can exist; `e164` checks only the form, for the platforms
 * whose own APIs accept numbers outside any numbering plan.
 */
export function normalizePhone(value: string, check: PhoneCheck): string | undefined {
  if (!E164.test(value)) return undefined;
  if (check === 'exists' && !phoneExists(value)) return undefined;
  return value;
}

/**
 * libphonenumber's answers, remembered: parsing a number against the full metadata costs
 * 10-40 µs, and a customer's number comes back with every sync of its profile. Bounded:
 * emptied when full, as the numbers in use are asked about again soon enough.
 */
const phoneAnswers = new Map<string, boolean>();
const PHONE_ANSWERS_MAX = 10_000;

function phoneExists(e164: string): boolean {
  let exists = phoneAnswers.get(e164);
  if (exists === undefined) {
    exists = isValidPhoneNumber(e164);
    if (phoneAnswers.size >= PHONE_ANSWERS_MAX) phoneAnswers.clear();
    phoneAnswers.set(e164, exists);
  }
  return exists;
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
  return m !== null && isRealCalendarDate(Number(m[1]), Number(m[2]), Number(m[3]));
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
