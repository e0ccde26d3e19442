// The charts of a project, from projectInsights (and projectVelocity). This
// module and recharts load only when the charts are opened, so the board's
// first load stays small.
import { useQuery } from 'urql';
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { graphql } from './gql';
import { describe } from './api';
import { label, Link, ProblemView } from './ui';
import { VelocityChart } from './velocity/Velocity';

const InsightsDoc = graphql(`
  query ProjectInsights($projectID: ID!) {
    node(id: $projectID) { ... on Project { id name } }
    projectInsights(projectID: $projectID) {
      feedbackCount
      feedbackPerDay { date count pending processing completed failed }
      processingTime { count p50Ms p95Ms }
      suggestions { total acceptanceRate byType { type total applied rejected pending acceptanceRate } }
      models { provider model completed processingTime { p50Ms p95Ms } suggestions { total applied rejected acceptanceRate } }
      topTasks { mentions task { id title } }
      themes(first: 5) { text count }
    }
  }
`);

const short = (s: string, n = 40) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

const pct = (r: number | null | undefined) => (r == null ? null : Math.round(r * 1000) / 10);

export default function Insights({ projectID }: { projectID: string }) {
  const [{ data, error }] = useQuery({ query: InsightsDoc, variables: { projectID } });
  const ins = data?.projectInsights;
  const name = data?.node?.__typename === 'Project' ? data.node.name : 'Project';
  return (
    <div className="insights">
      <h1>{name}: charts</h1>
      <p>
        <Link to={`/app/projects/${encodeURIComponent(projectID)}`}>Back to the board</Link>
      </p>
      <ProblemView problem={error ? describe(error) : null} />
      {ins && (
        <div className="charts">
          <section aria-labelledby="c-days">
            <h2 id="c-days">Feedback per day by status</h2>
            <ResponsiveContainer width="100%" height={260}>
              <BarChart data={ins.feedbackPerDay.map((d) => ({ date: d.date, Pending: d.pending, Processing: d.processing, Completed: d.completed, Failed: d.failed }))}>
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis dataKey="date" />
                <YAxis allowDecimals={false} />
                <Tooltip />
                <Legend />
                <Bar dataKey="Completed" stackId="s" fill="#2f6f4f" />
                <Bar dataKey="Failed" stackId="s" fill="#a4262c" />
                <Bar dataKey="Processing" stackId="s" fill="#6b4f91" />
                <Bar dataKey="Pending" stackId="s" fill="#6b6b6b" />
              </BarChart>
            </ResponsiveContainer>
          </section>
          <section aria-labelledby="c-kind">
            <h2 id="c-kind">Suggestions accepted, by kind (%)</h2>
            <ResponsiveContainer width="100%" height={260}>
              <BarChart data={ins.suggestions.byType.map((t) => ({ kind: label(t.type), Accepted: pct(t.acceptanceRate), total: t.total }))}>
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis dataKey="kind" />
                <YAxis domain={[0, 100]} unit="%" />
                <Tooltip />
                <Bar dataKey="Accepted" fill="#1d4f91" />
              </BarChart>
            </ResponsiveContainer>
          </section>
          <section aria-labelledby="c-model">
            <h2 id="c-model">Suggestions accepted, by model (%)</h2>
            <ResponsiveContainer width="100%" height={260}>
              <BarChart data={ins.models.map((m) => ({ model: m.model ?? m.provider ?? 'unknown', Accepted: pct(m.suggestions.acceptanceRate) }))}>
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis dataKey="model" />
                <YAxis domain={[0, 100]} unit="%" />
                <Tooltip />
                <Bar dataKey="Accepted" fill="#1d4f91" />
              </BarChart>
            </ResponsiveContainer>
          </section>
          <section aria-labelledby="c-latency">
            <h2 id="c-latency">Analysis time (ms)</h2>
            <ResponsiveContainer width="100%" height={260}>
              <BarChart
                data={[
                  { who: 'All models', Median: ins.processingTime.p50Ms, '95th percentile': ins.processingTime.p95Ms },
                  ...ins.models.map((m) => ({ who: m.model ?? 'unknown', Median: m.processingTime.p50Ms, '95th percentile': m.processingTime.p95Ms })),
                ]}
              >
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis dataKey="who" />
                <YAxis unit=" ms" />
                <Tooltip />
                <Legend />
                <Bar dataKey="Median" fill="#2f6f4f" />
                <Bar dataKey="95th percentile" fill="#8a3b12" />
              </BarChart>
            </ResponsiveContainer>
          </section>
          <section aria-labelledby="c-velocity">
            <h2 id="c-velocity">Velocity</h2>
            <VelocityChart projectID={projectID} />
          </section>
          <section aria-labelledby="c-themes">
            <h2 id="c-themes">Most frequent themes</h2>
            {ins.themes.length === 0 ? (
              <p>No two feedback say the same thing yet.</p>
            ) : (
              <>
                <ResponsiveContainer width="100%" height={60 + 40 * ins.themes.length}>
                  <BarChart layout="vertical" data={ins.themes.map((t) => ({ theme: short(t.text), Feedback: t.count }))}>
                    <CartesianGrid strokeDasharray="3 3" />
                    <XAxis type="number" allowDecimals={false} />
                    <YAxis type="category" dataKey="theme" width={160} />
                    <Tooltip />
                    <Bar dataKey="Feedback" fill="#1d4f91" />
                  </BarChart>
                </ResponsiveContainer>
                <ol>
                  {ins.themes.map((t, i) => (
                    <li key={i}>
                      {t.text}: {t.count}
                    </li>
                  ))}
                </ol>
              </>
            )}
          </section>
          <section aria-labelledby="c-top">
            <h2 id="c-top">Tasks mentioned most</h2>
            <ol>
              {ins.topTasks.map((t) => (
                <li key={t.task.id}>
                  {t.task.title}: {t.mentions}
                </li>
              ))}
            </ol>
          </section>
        </div>
      )}
    </div>
  );
}
