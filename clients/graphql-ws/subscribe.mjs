// Runs one subscription with the graphql-ws library (graphql-transport-ws)
// and prints each result's data as a JSON line. Exits 0 after count results
// (0: when the server completes the subscription), 2 when the server closes
// the connection (printing {"closed": code, "reason": ...}), 1 on any other
// error.
//
//   TOKEN=<jwt or API key> node subscribe.mjs ws://127.0.0.1:8080/query <count> '<query>' '<variables JSON>'
//
// The token, if any, is sent as connectionParams, as browser clients do; it
// is read by a function, so a reconnecting client could fetch a fresh one.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [url, countArg, query, variablesArg] = process.argv.slice(2);
const count = Number(countArg);
const variables = variablesArg ? JSON.parse(variablesArg) : {};
const token = process.env.TOKEN;
const client = createClient({
  url,
  webSocketImpl: WebSocket,
  retryAttempts: 0,
  lazy: true,
  connectionParams: () => (token ? { authorization: `Bearer ${token}` } : {}),
});

const done = (code) => { clearTimeout(timer); client.dispose(); process.exit(code); };
const timer = setTimeout(() => { console.error('timed out'); process.exit(1); }, 30000);
let received = 0;
client.subscribe({ query, variables }, {
  next: (result) => {
    if (result.errors) { console.error(JSON.stringify(result.errors)); process.exit(1); }
    console.log(JSON.stringify(result.data));
    received++;
    if (count > 0 && received >= count) done(0);
  },
  error: (err) => {
    if (err && typeof err.code === 'number') {
      console.log(JSON.stringify({ closed: err.code, reason: err.reason }));
      process.exit(2);
    }
    console.error(err instanceof Error ? err.message : JSON.stringify(err));
    process.exit(1);
  },
  complete: () => done(0),
});
