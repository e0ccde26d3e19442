// Velocity: tasks completed per week and their cycle time, from
// projectVelocity (task status history kept by the service). Kept apart from
// the other charts so the charts' bundle stays one lazy chunk per query.
import { useQuery } from 'urql';
import { Bar, CartesianGrid, ComposedChart, Legend, Line, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { graphql } from '../gql';
import { describe } from '../api';
import { ProblemView } from '../ui';

const VelocityDoc = graphql(`
  query ProjectVelocity($projectID: ID!) {
    projectVelocity(projectID: $projectID, weeks: 12) {
      completed
      cycleTime { count p50Hours p95Hours }
      weeks { weekStart isoWeek completed cycleTime { p50Hours p95Hours } }
    }
  }
`);

export function VelocityChart({ projectID }: { projectID: string }) {
  const [{ data, error }] = useQuery({ query: VelocityDoc, variables: { projectID } });
  if (error) {
    const unknown = error.graphQLErrors.some((e) => e.extensions?.code === 'GRAPHQL_VALIDATION_FAILED');
    return <ProblemView problem={unknown ? { message: 'This server does not report velocity yet.' } : describe(error)} />;
  }
  const v = data?.projectVelocity;
  if (!v) return <p>Loading…</p>;
  const rows = v.weeks.map((w) => ({ week: w.isoWeek, completed: w.completed, p50: w.cycleTime.p50Hours, p95: w.cycleTime.p95Hours }));
  return (
    <figure>
      <figcaption>
        {v.completed} tasks completed in 12 weeks; cycle time median {fmt(v.cycleTime.p50Hours)}, 95th percentile {fmt(v.cycleTime.p95Hours)}.
      </figcaption>
      <ResponsiveContainer width="100%" height={260}>
        <ComposedChart data={rows}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="week" />
          <YAxis yAxisId="n" allowDecimals={false} />
          <YAxis yAxisId="h" orientation="right" unit=" h" />
          <Tooltip />
          <Legend />
          <Bar yAxisId="n" dataKey="completed" name="Tasks completed" fill="#2f6f4f" />
          <Line yAxisId="h" dataKey="p50" name="Cycle time, median (h)" stroke="#1d4f91" connectNulls />
          <Line yAxisId="h" dataKey="p95" name="Cycle time, 95th pct (h)" stroke="#8a3b12" connectNulls />
        </ComposedChart>
      </ResponsiveContainer>
    </figure>
  );
}

const fmt = (h: number | null | undefined) => (h == null ? 'n/a' : `${h.toFixed(1)} h`);
