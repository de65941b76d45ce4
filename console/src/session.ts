/**
 * Who the console is signed in as, for this browser tab's session only (sessionStorage:
 * gone when the tab closes, never in a URL). A store session holds a store's id and API
 * key; an admin session holds the admin token and, once a store is picked, a key the
 * console made for that store (revoked on sign-out).
 */
export interface Session {
  storeId?: string;
  storeName?: string;
  apiKey?: string;
  /** The id of the key the console made for an admin session, revoked on sign-out. */
  sessionKeyId?: string;
  adminToken?: string;
}

const KEY = 'clientele.session';
const listeners = new Set<() => void>();

export function readSession(): Session {
  try {
    return JSON.parse(sessionStorage.getItem(KEY) ?? '{}') as Session;
  } catch {
    return {};
  }
}

export function writeSession(session: Session): void {
  if (Object.keys(session).length === 0) sessionStorage.removeItem(KEY);
  else sessionStorage.setItem(KEY, JSON.stringify(session));
  for (const listener of listeners) listener();
}

export function onSessionChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
