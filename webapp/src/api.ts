// The app's two connections to the API: urql over HTTP for queries and
// mutations, graphql-ws for the live projectEvents stream (see events.ts).
// Both send the signed-in credential: HTTP as the Authorization header, the
// websocket as its connection_init payload, which the server reads the same.
import { Client, cacheExchange, fetchExchange, CombinedError } from 'urql';
import { createClient as createWSClient, type Client as WSClient } from 'graphql-ws';

export type Clients = { client: Client; ws: WSClient };

const TOKEN_KEY = 'feedbackloop.credential';

// The credential lives in sessionStorage: it is gone when the tab closes,
// and other origins cannot read it.
export function storedCredential(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function storeCredential(credential: string | null) {
  if (credential) sessionStorage.setItem(TOKEN_KEY, credential);
  else sessionStorage.removeItem(TOKEN_KEY);
}

export function makeClients(credential: string | null): Clients {
  const auth: Record<string, string> = credential ? { Authorization: `Bearer ${credential}` } : {};
  const client = new Client({
    url: '/query',
    // The document cache: a mutation's answer invalidates the cached
    // queries holding its types. Lists that change live (board columns,
    // feedback) are the pages' own state, updated by events.
    exchanges: [cacheExchange, fetchExchange],
    fetchOptions: { headers: auth },
    requestPolicy: 'cache-and-network',
  });
  const ws = createWSClient({
    url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/query`,
    connectionParams: auth,
    lazy: true,
    // No retries inside graphql-ws: it would subscribe again with the first
    // variables. events.ts reconnects itself, resuming after the last cursor.
    retryAttempts: 0,
  });
  return { client, ws };
}

/** An API error put in words, with what support needs to find it. */
export type Problem = {
  message: string;
  code?: string;
  requestId?: string;
  /** CONFLICT on a decision: what the task holds now, and what was expected. */
  conflict?: { taskField?: string; currentValue?: string; expectedValue?: string };
  retryAfter?: number;
};

type Ext = Record<string, unknown>;

export function describe(err: unknown): Problem {
  if (err instanceof CombinedError) {
    const requestId = err.response?.headers?.get?.('X-Request-ID') ?? undefined;
    if (err.networkError && err.graphQLErrors.length === 0) {
      return { message: `The service could not be reached (${err.networkError.message}). Check your connection and try again.`, requestId };
    }
    const first = err.graphQLErrors[0];
    const ext = (first?.extensions ?? {}) as Ext;
    return { ...fromCode(String(ext.code ?? ''), first?.message ?? err.message, ext), requestId: requestId ?? (ext.requestId as string | undefined) };
  }
  if (Array.isArray(err) && err.length > 0) {
    // graphql-ws hands the errors of a subscription as they came.
    const first = err[0] as { message?: string; extensions?: Ext };
    const ext = first.extensions ?? {};
    return { ...fromCode(String(ext.code ?? ''), first.message ?? 'error', ext), requestId: ext.requestId as string | undefined };
  }
  if (err instanceof Error) return { message: err.message };
  return { message: String(err) };
}

function fromCode(code: string, serverMessage: string, ext: Ext): Problem {
  const base = { code };
  switch (code) {
    case 'UNAUTHENTICATED':
      return { ...base, message: 'The service did not accept your key or token (it may have expired or been revoked). Sign in again.' };
    case 'FORBIDDEN':
      return { ...base, message: `You are not allowed to do this with your role in this project. (${serverMessage})` };
    case 'NOT_FOUND':
      return { ...base, message: 'This no longer exists, or you may not see it.' };
    case 'CONFLICT':
      return {
        ...base,
        message: 'Someone changed the task since this suggestion was made.',
        conflict: {
          taskField: ext.taskField as string | undefined,
          currentValue: ext.currentValue as string | undefined,
          expectedValue: ext.expectedValue as string | undefined,
        },
      };
    case 'RATE_LIMITED': {
      const retryAfter = Number(ext.retryAfter ?? 0) || undefined;
      return { ...base, retryAfter, message: `Too many requests for now; try again${retryAfter ? ` in ${retryAfter} s` : ' shortly'}.` };
    }
    case 'BAD_USER_INPUT':
      return { ...base, message: serverMessage };
    case 'TIMEOUT':
      return { ...base, message: 'The service took too long to answer. Try again, asking for less.' };
    case 'UNAVAILABLE':
      return { ...base, message: 'The service is busy or partly down. Try again in a moment.' };
    case 'INTERNAL':
      return { ...base, message: 'Something went wrong on the server. If it happens again, tell support the request ID.' };
    default:
      return { ...base, message: serverMessage };
  }
}
