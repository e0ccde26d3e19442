// Runs graphql-http's serverAudits (the GraphQL-over-HTTP specification's
// compliance checks) against the URL given and prints one JSON line per
// audit: {id, name, status, reason}. Exits 0; the Go test judges.
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
const headers = process.env.AUTHORIZATION ? { authorization: process.env.AUTHORIZATION } : {};
const fetchFn = (input, init = {}) => fetch(input, { ...init, headers: { ...headers, ...(init.headers || {}) } });
for (const audit of serverAudits({ url, fetchFn })) {
  const result = await audit.fn();
  console.log(JSON.stringify({ id: audit.id, name: audit.name, status: result.status, reason: result.reason || '' }));
}
