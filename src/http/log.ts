/**
 * What the request logger may write. Credentials never reach a log: the headers that
 * carry them are redacted, and so are query parameters that name one.
 */

/** The headers a credential arrives in, native or dialect. */
export const redactedHeaders = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers["x-app-token"]',
  'req.headers["x-yotpo-token"]',
];

/** A parameter name that names a secret, once decoded, lower-cased and without separators. */
const SECRET_NAME = /token|secret|apikey|password/;

/**
 * The URL with the value of every query parameter that names a secret replaced, however
 * the name is written: in any case, percent-encoded (`access%5Ftoken`, even twice) or with
 * `+` for spaces. A parameter whose name cannot be decoded is masked whole.
 */
export function maskUrlSecrets(url: string): string {
  const at = url.indexOf('?');
  if (at < 0) return url;
  const parts = url
    .slice(at + 1)
    .split('&')
    .map((part) => {
      const decoded = decodeFully(part);
      if (decoded === undefined) return '[redacted]';
      const eq = decoded.indexOf('=');
      const name = (eq < 0 ? decoded : decoded.slice(0, eq)).toLowerCase().replace(/[^a-z]/g, '');
      if (!SECRET_NAME.test(name)) return part;
      const rawEq = part.indexOf('=');
      return rawEq < 0 ? '[redacted]' : `${part.slice(0, rawEq)}=[redacted]`;
    });
  return `${url.slice(0, at)}?${parts.join('&')}`;
}

/** Percent-decoded until it stops changing (three rounds at most), or undefined if malformed. */
function decodeFully(text: string): string | undefined {
  let current = text.replaceAll('+', ' ');
  for (let round = 0; round < 3; round++) {
    let next: string;
    try {
      next = decodeURIComponent(current);
    } catch {
      return undefined;
    }
    if (next === current) return current;
    current = next;
  }
  return current;
}

/** The request as the log shows it. */
export function serializeRequest(request: { method: string; url: string; id: string }) {
  return { method: request.method, url: maskUrlSecrets(request.url), id: request.id };
}
