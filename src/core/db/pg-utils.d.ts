/** node-postgres's helper that turns a parameter into the text it sends (no types of its own). */
declare module 'pg/lib/utils.js' {
  const utils: { prepareValue(value: unknown): string | Buffer | null };
  export default utils;
}
