import { useCallback, useEffect, useState } from 'react';
import { useClient, useQuery } from 'urql';
import { graphql } from './gql';
import type { TaskCardFragment, FeedbackItemFragment, SuggestionFragment, CommentItemFragment, TaskStatus, Role as ProjectRole } from './gql/graphql';
import { describe, type Clients, type Problem } from './api';
import { useProjectEvents, type ProjectEvent } from './events';
import { label, Link, ProblemView } from './ui';
import { Suggestions } from './Suggestions';

export const STATUSES: TaskStatus[] = ['TODO', 'IN_PROGRESS', 'BLOCKED', 'DONE'];

const ProjectHeadDoc = graphql(`
  query ProjectHead($projectID: ID!) {
    node(id: $projectID) { ... on Project { id name description } }
  }
`);

// One column of the board, a page at a time: a project may hold thousands
// of tasks, and the board never asks for them all.
const BoardColumnDoc = graphql(`
  query BoardColumn($projectID: ID!, $status: TaskStatus!, $after: Cursor) {
    node(id: $projectID) {
      ... on Project {
        id
        tasks(first: 20, after: $after, where: { status: $status }, orderBy: { field: PRIORITY, direction: DESC }) {
          totalCount
          pageInfo { hasNextPage endCursor }
          edges { node { ...TaskCard } }
        }
      }
    }
  }
`);

const FeedbackPageDoc = graphql(`
  query FeedbackPage($projectID: ID!, $after: Cursor) {
    node(id: $projectID) {
      ... on Project {
        id
        feedbacks(first: 10, after: $after, orderBy: { field: CREATED_AT, direction: DESC }) {
          totalCount
          pageInfo { hasNextPage endCursor }
          edges { node { ...FeedbackItem adjustments { ...Suggestion } } }
        }
      }
    }
  }
`);

const CreateTaskDoc = graphql(`
  mutation CreateTask($input: CreateTaskInput!) {
    createTask(input: $input) { ...TaskCard }
  }
`);

const SubmitFeedbackDoc = graphql(`
  mutation SubmitFeedback($input: SubmitFeedbackInput!) {
    submitFeedback(input: $input) { ...FeedbackItem adjustments { ...Suggestion } }
  }
`);

type Column = { tasks: TaskCardFragment[]; total: number; endCursor: string | null; hasNext: boolean };
export type FeedbackWithSuggestions = FeedbackItemFragment & { adjustments: SuggestionFragment[] };
/** The viewer's role in the project, as the schema names them; null: none. */
export type Role = ProjectRole | null;

const byPriority = (a: TaskCardFragment, b: TaskCardFragment) => b.priority - a.priority;

export function ProjectPage({ clients, projectID, role }: { clients: Clients; projectID: string; role: Role }) {
  const client = useClient();
  const [{ data: head, error: headError }] = useQuery({ query: ProjectHeadDoc, variables: { projectID } });
  const [columns, setColumns] = useState<Partial<Record<TaskStatus, Column>>>({});
  // The feedback shown, newest first, and where its connection goes on.
  const [fb, setFb] = useState<{ items: FeedbackWithSuggestions[]; total: number; endCursor: string | null; hasNext: boolean }>({ items: [], total: 0, endCursor: null, hasNext: false });
  const [comments, setComments] = useState<Record<string, CommentItemFragment[] | undefined>>({});
  const [problem, setProblem] = useState<Problem | null>(null);
  const canEdit = role === 'OWNER' || role === 'EDITOR';

  const loadColumn = useCallback(
    async (status: TaskStatus, after: string | null) => {
      const r = await client.query(BoardColumnDoc, { projectID, status, after }, { requestPolicy: 'network-only' }).toPromise();
      if (r.error) return setProblem(describe(r.error));
      const conn = r.data?.node?.__typename === 'Project' ? r.data.node.tasks : null;
      if (!conn) return;
      const page = (conn.edges ?? []).flatMap((e) => (e?.node ? [e.node] : []));
      setColumns((cols) => {
        const prev = after ? (cols[status]?.tasks ?? []) : [];
        const seen = new Set(prev.map((t) => t.id));
        return {
          ...cols,
          [status]: { tasks: [...prev, ...page.filter((t) => !seen.has(t.id))], total: conn.totalCount, endCursor: conn.pageInfo.endCursor ?? null, hasNext: conn.pageInfo.hasNextPage },
        };
      });
    },
    [client, projectID],
  );

  const loadFeedback = useCallback(
    async (after: string | null) => {
      const r = await client.query(FeedbackPageDoc, { projectID, after }, { requestPolicy: 'network-only' }).toPromise();
      if (r.error) return setProblem(describe(r.error));
      const conn = r.data?.node?.__typename === 'Project' ? r.data.node.feedbacks : null;
      if (!conn) return;
      const page = (conn.edges ?? []).flatMap((e) => (e?.node ? [e.node] : []));
      setFb((prev) => {
        const base = after ? prev.items : [];
        const seen = new Set(base.map((f) => f.id));
        return { items: [...base, ...page.filter((f) => !seen.has(f.id))], total: conn.totalCount, endCursor: conn.pageInfo.endCursor ?? null, hasNext: conn.pageInfo.hasNextPage };
      });
    },
    [client, projectID],
  );

  const reload = useCallback(() => {
    STATUSES.forEach((s) => void loadColumn(s, null));
    void loadFeedback(null);
  }, [loadColumn, loadFeedback]);
  useEffect(reload, [reload]);

  const upsertTask = useCallback((task: TaskCardFragment, deleted: boolean) => {
    setColumns((cols) => {
      const next = { ...cols };
      for (const s of STATUSES) {
        const col = next[s];
        if (!col || !col.tasks.some((t) => t.id === task.id)) continue;
        const old = col.tasks.find((t) => t.id === task.id)!;
        if (old.version > task.version) return cols; // an older state than shown
        next[s] = { ...col, tasks: col.tasks.filter((t) => t.id !== task.id), total: col.total - 1 };
      }
      if (deleted) return next;
      const col = next[task.status] ?? { tasks: [], total: 0, endCursor: null, hasNext: false };
      next[task.status] = { ...col, tasks: [...col.tasks, task].sort(byPriority), total: col.total + 1 };
      return next;
    });
  }, []);

  const updateSuggestion = useCallback((s: Partial<SuggestionFragment> & { id: string }) => {
    setFb((prev) => ({
      ...prev,
      items: prev.items.map((f) => (f.adjustments.some((a) => a.id === s.id) ? { ...f, adjustments: f.adjustments.map((a) => (a.id === s.id ? { ...a, ...s } : a)) } : f)),
    }));
  }, []);

  const upsertFeedback = useCallback((f: FeedbackWithSuggestions) => {
    setFb((prev) =>
      prev.items.some((x) => x.id === f.id)
        ? { ...prev, items: prev.items.map((x) => (x.id === f.id ? f : x)) }
        : { ...prev, items: [f, ...prev.items], total: prev.total + 1 },
    );
  }, []);

  const onEvent = useCallback(
    (ev: ProjectEvent) => {
      switch (ev.__typename) {
        case 'TaskEvent':
          upsertTask(ev.task, ev.taskChange === 'DELETED');
          break;
        case 'FeedbackStatusEvent':
          upsertFeedback(ev.feedback);
          break;
        case 'AdjustmentEvent':
          updateSuggestion(ev.adjustment);
          break;
        case 'VoteEvent':
          updateSuggestion({ id: ev.adjustment.id, score: ev.score });
          break;
        case 'CommentEvent': {
          const target = ev.comment.adjustmentID;
          if (!target) break;
          setComments((all) => {
            const list = all[target];
            if (!list) return all;
            const rest = list.filter((c) => c.id !== ev.comment.id);
            if (ev.commentChange === 'DELETED') return { ...all, [target]: rest };
            return { ...all, [target]: ev.commentChange === 'CREATED' ? [...rest, ev.comment] : list.map((c) => (c.id === ev.comment.id ? ev.comment : c)) };
          });
          break;
        }
      }
    },
    [upsertTask, upsertFeedback, updateSuggestion],
  );
  const stream = useProjectEvents(clients, projectID, onEvent);

  const project = head?.node?.__typename === 'Project' ? head.node : null;
  return (
    <div className="project">
      <div className="project-head">
        <h1>{project?.name ?? 'Project'}</h1>
        <p className="stream" role="status" data-live={stream.live}>
          {stream.live ? 'Live' : stream.reconnects > 0 ? 'Reconnecting…' : 'Connecting…'}
        </p>
        <Link to={`/app/projects/${encodeURIComponent(projectID)}/insights`}>Charts</Link>
      </div>
      {project?.description && <p>{project.description}</p>}
      <ProblemView problem={headError ? describe(headError) : problem ?? stream.problem} />
      <Board columns={columns} loadMore={loadColumn} canEdit={canEdit} projectID={projectID} onCreated={(t) => upsertTask(t, false)} />
      <FeedbackPanel
        projectID={projectID}
        role={role}
        feedback={fb.items}
        more={fb}
        loadMore={() => loadFeedback(fb.endCursor)}
        onSubmitted={upsertFeedback}
        onDecided={(s, task) => {
          updateSuggestion(s);
          if (task) upsertTask(task, false);
        }}
        comments={comments}
        setComments={(id, list) => setComments((all) => ({ ...all, [id]: list }))}
      />
    </div>
  );
}

function Board({ columns, loadMore, canEdit, projectID, onCreated }: { columns: Partial<Record<TaskStatus, Column>>; loadMore: (s: TaskStatus, after: string | null) => void; canEdit: boolean; projectID: string; onCreated: (t: TaskCardFragment) => void }) {
  const client = useClient();
  const [title, setTitle] = useState('');
  const [status, setStatus] = useState<TaskStatus>('TODO');
  const [problem, setProblem] = useState<Problem | null>(null);
  return (
    <section aria-labelledby="board-title" className="board-section">
      <h2 id="board-title">Board</h2>
      {canEdit && (
        <form
          className="inline"
          aria-label="New task"
          onSubmit={async (e) => {
            e.preventDefault();
            const r = await client.mutation(CreateTaskDoc, { input: { projectID, title, status } }).toPromise();
            setProblem(r.error ? describe(r.error) : null);
            if (r.data) {
              setTitle('');
              onCreated(r.data.createTask);
            }
          }}
        >
          <label htmlFor="task-title">New task</label>
          <input id="task-title" value={title} onChange={(e) => setTitle(e.target.value)} required maxLength={255} />
          <label htmlFor="task-status">Status</label>
          <select id="task-status" value={status} onChange={(e) => setStatus(e.target.value as TaskStatus)}>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {label(s)}
              </option>
            ))}
          </select>
          <button type="submit">Add task</button>
          <ProblemView problem={problem} />
        </form>
      )}
      <div className="board">
        {STATUSES.map((s) => {
          const col = columns[s];
          return (
            <section key={s} className="column" data-column={s} aria-labelledby={`col-${s}`}>
              <h3 id={`col-${s}`}>
                {label(s)} <span className="count">{col ? col.total : '…'}</span>
              </h3>
              <ul>
                {col?.tasks.map((t) => (
                  <li key={t.id} className="task" data-task-id={t.id} data-status={t.status}>
                    <span className="task-title">{t.title}</span>
                    <span className="meta">
                      Priority {t.priority}
                      {t.estimatedHours != null && ` · ${t.estimatedHours} h`}
                    </span>
                    {t.description && <span className="desc">{t.description}</span>}
                  </li>
                ))}
              </ul>
              {col?.hasNext && (
                <button type="button" onClick={() => loadMore(s, col.endCursor)}>
                  Show more <span className="sr-only">{label(s)} tasks</span>
                </button>
              )}
            </section>
          );
        })}
      </div>
    </section>
  );
}

function FeedbackPanel(props: {
  projectID: string;
  role: Role;
  feedback: FeedbackWithSuggestions[];
  more: { total: number; hasNext: boolean };
  loadMore: () => void;
  onSubmitted: (f: FeedbackWithSuggestions) => void;
  onDecided: (s: SuggestionFragment, task: TaskCardFragment | null | undefined) => void;
  comments: Record<string, CommentItemFragment[] | undefined>;
  setComments: (id: string, list: CommentItemFragment[]) => void;
}) {
  const client = useClient();
  const [text, setText] = useState('');
  const [name, setName] = useState('');
  const [problem, setProblem] = useState<Problem | null>(null);
  const canSubmit = props.role === 'OWNER' || props.role === 'EDITOR';
  return (
    <section aria-labelledby="feedback-title" className="feedback-section">
      <h2 id="feedback-title">
        Feedback <span className="count">{props.more.total}</span>
      </h2>
      {canSubmit && (
        <form
          className="card"
          aria-label="Submit feedback"
          onSubmit={async (e) => {
            e.preventDefault();
            const r = await client.mutation(SubmitFeedbackDoc, { input: { projectID: props.projectID, feedbackText: text, userName: name || null } }).toPromise();
            setProblem(r.error ? describe(r.error) : null);
            if (r.data) {
              setText('');
              props.onSubmitted(r.data.submitFeedback);
            }
          }}
        >
          <label htmlFor="feedback-text">What did you hear?</label>
          <textarea id="feedback-text" value={text} onChange={(e) => setText(e.target.value)} required maxLength={10000} rows={3} />
          <label htmlFor="feedback-name">From (optional)</label>
          <input id="feedback-name" value={name} onChange={(e) => setName(e.target.value)} maxLength={255} />
          <button type="submit">Submit feedback</button>
          <ProblemView problem={problem} />
        </form>
      )}
      <ul className="feedback-list">
        {props.feedback.map((f) => (
          <li key={f.id} className="card feedback" data-feedback-id={f.id} data-status={f.status}>
            <p className="feedback-text">“{f.feedbackText}”{f.userName && <span className="meta"> — {f.userName}</span>}</p>
            <p>
              <span className={`badge badge-${f.status.toLowerCase()}`}>{label(f.status)}</span>
              {f.model && <span className="meta"> analysed by {f.model}</span>}
            </p>
            {f.summary && <p className="summary">{f.summary}</p>}
            {f.error && <p className="meta">Analysis failed: {f.error}</p>}
            {f.adjustments.length > 0 && <Suggestions suggestions={f.adjustments} role={props.role} onDecided={props.onDecided} comments={props.comments} setComments={props.setComments} />}
          </li>
        ))}
      </ul>
      {props.more.hasNext && (
        <button type="button" onClick={props.loadMore}>
          Show older feedback
        </button>
      )}
    </section>
  );
}
