import { readSession } from './session';

/** One entry of a problem document's `errors`: the field (a JSON Pointer) and the rule. */
export interface FieldError {
  path: string;
  message: string;
}

export interface Problem {
  status: number;
  title?: string;
  detail?: string;
  code?: string;
  errors?: FieldError[];
}

/** A refused request, carrying the API's problem document. */
export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.title ?? `HTTP ${problem.status}`);
  }

  /** The messages the problem has for one field, say `/email` or `/query/q`. */
  forField(path: string): string[] {
    return (this.problem.errors ?? []).filter((e) => e.path === path).map((e) => e.message);
  }
}

type As = 'store' | 'admin';

/**
 * A call of the public API, with the session's store key (or the admin token). Store
 * paths are written relative to the store: `api('/customers')`.
 */
export async function api<T>(
  path: string,
  init: {
    method?: string;
    body?: unknown;
    as?: As;
    headers?: Record<string, string>;
    signal?: AbortSignal;
  } = {},
): Promise<T> {
  const session = readSession();
  const as = init.as ?? 'store';
  const token = as === 'admin' ? session.adminToken : session.apiKey;
  const url =
    as === 'store' && !path.startsWith('/v1/') ? `/v1/stores/${session.storeId}${path}` : path;
  const headers: Record<string, string> = { ...init.headers };
  if (token) headers.authorization = `Bearer ${token}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(url, {
      method: init.method ?? 'GET',
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: init.signal,
    });
  } catch (error) {
    if (init.signal?.aborted) throw error;
    throw new ApiError({ status: 0, detail: 'Clientele did not answer: is the server running?' });
  }
  if (response.status === 204) return undefined as T;
  return answerOf<T>(response.status, await response.text());
}

/** An answer's body, or the ApiError of its problem document. */
function answerOf<T>(status: number, text: string): T {
  const body = text ? (JSON.parse(text) as unknown) : undefined;
  if (status < 200 || status > 299) {
    const problem = (body ?? {}) as Problem;
    throw new ApiError({ ...problem, status });
  }
  return body as T;
}

/**
 * A file sent as a request's body with the session's store key, through XMLHttpRequest:
 * fetch cannot tell how much of a body has gone, XMLHttpRequest's upload events can.
 */
export function upload<T>(
  path: string,
  file: Blob,
  contentType: string,
  onProgress: (sent: number, total: number) => void,
): Promise<T> {
  const session = readSession();
  return new Promise<T>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', storePath(path));
    xhr.setRequestHeader('authorization', `Bearer ${session.apiKey ?? ''}`);
    xhr.setRequestHeader('content-type', contentType);
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onload = () => {
      try {
        resolve(answerOf<T>(xhr.status, xhr.responseText));
      } catch (error) {
        reject(error);
      }
    };
    xhr.onerror = () =>
      reject(
        new ApiError({ status: 0, detail: 'Clientele did not answer: is the server running?' }),
      );
    xhr.send(file);
  });
}

export function storePath(path: string): string {
  return `/v1/stores/${encodeURIComponent(readSession().storeId ?? '')}${path}`;
}
