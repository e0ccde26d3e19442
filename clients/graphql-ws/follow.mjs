// Follows one feedback with the graphql-ws library (graphql-transport-ws)
// and prints each event as a JSON line; exits 0 when the server completes
// the subscription, 1 on any error.
//
//   node follow.mjs ws://127.0.0.1:8080/query <feedback id>
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [url, id] = process.argv.slice(2);
const client = createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
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
  error: (err) => { console.error(err instanceof Error ? err.message : JSON.stringify(err)); process.exit(1); },
  complete: () => { clearTimeout(timer); client.dispose(); process.exit(0); },
});
