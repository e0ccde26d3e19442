// Runs one operation with the graphql-sse library in its distinct
// connections mode (a POST per operation, Accept: text/event-stream) and
// prints, a line each: "connected" once the server answered, every result
// as JSON, and "complete" when the server completed it. Exits 0 then, 1 on
// an error (printed to stderr). It does not retry: the test wants to see
// the first connection's end.
//
//   AUTHORIZATION='Bearer <token or API key>' node subscribe.mjs http://127.0.0.1:8080/query '<query>' '<variables JSON>'
import { createClient } from 'graphql-sse';

const [url, query, variablesArg] = process.argv.slice(2);
const variables = variablesArg ? JSON.parse(variablesArg) : {};
const authorization = process.env.AUTHORIZATION;
const client = createClient({
  url,
  retryAttempts: 0,
  headers: () => (authorization ? { authorization } : {}),
  on: { connected: () => console.log('connected') },
});

const timer = setTimeout(() => { console.error('timed out'); process.exit(1); }, 50000);
client.subscribe({ query, variables }, {
  next: (result) => console.log(JSON.stringify(result)),
  error: (err) => {
    console.error(err instanceof Error ? err.message : JSON.stringify(err));
    process.exit(1);
  },
  complete: () => {
    console.log('complete');
    clearTimeout(timer);
    client.dispose();
    process.exit(0);
  },
});
