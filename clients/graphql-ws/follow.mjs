// Follows one feedback with the graphql-ws library (graphql-transport-ws)
// and prints each event as a JSON line; exits 0 when the server completes
// the subscription, 2 when the server closes the connection (printing
// {"closed": code, "reason": ...}), 1 on any other error.
//
//   TOKEN=<jwt or API key> node follow.mjs ws://127.0.0.1:8080/query <feedback id>
//
// The token, if any, is sent as connectionParams, as browser clients do; it
// is read by a function, so a reconnecting client could fetch a fresh one.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [url, id] = process.argv.slice(2);
const token = process.env.TOKEN;
const client = createClient({
  url,
  webSocketImpl: WebSocket,
  retryAttempts: 0,
  lazy: true,
  connectionParams: () => (token ? { authorization: `Bearer ${token}` } : {}),
});
const query = `subscription($id: ID!) {
  feedbackStatusChanged(id: $id) {
    status previousStatus version
    feedback { id provider adjustments { adjustmentType description } }
  }
}`;

const timer = setTimeout(() => { console.error('timed out'); process.exit(1); }, 30000);
client.subscribe({ query, variables: { id } }, {
  next: (result) => {
    if (result.errors) { console.error(JSON.stringify(result.errors)); process.exit(1); }
    console.log(JSON.stringify(result.data.feedbackStatusChanged));
  },
  error: (err) => {
    if (err && typeof err.code === 'number') {
      console.log(JSON.stringify({ closed: err.code, reason: err.reason }));
      process.exit(2);
    }
    console.error(err instanceof Error ? err.message : JSON.stringify(err));
    process.exit(1);
  },
  complete: () => { clearTimeout(timer); client.dispose(); process.exit(0); },
});
