import { useState } from 'react';
import { useClient } from 'urql';
import { graphql } from './gql';
import type { SuggestionFragment, TaskCardFragment, CommentItemFragment, Vote } from './gql/graphql';
import { describe, type Problem } from './api';
import { label, ProblemView } from './ui';
import type { Role } from './Project';

const ApplyDoc = graphql(`
  mutation ApplySuggestion($id: ID!, $force: Boolean) {
    applyAdjustment(id: $id, force: $force) { adjustment { ...Suggestion } task { ...TaskCard } }
  }
`);
const RejectDoc = graphql(`
  mutation RejectSuggestion($id: ID!, $reason: String) {
    rejectAdjustment(id: $id, reason: $reason) { adjustment { ...Suggestion } task { ...TaskCard } }
  }
`);
const RevertDoc = graphql(`
  mutation RevertSuggestion($id: ID!) {
    revertAdjustment(id: $id) { adjustment { ...Suggestion } task { ...TaskCard } }
  }
`);
const VoteDoc = graphql(`
  mutation VoteSuggestion($id: ID!, $value: Vote!) {
    voteAdjustment(id: $id, value: $value) { ...Suggestion }
  }
`);
const CommentsDoc = graphql(`
  query SuggestionComments($id: ID!) {
    node(id: $id) { ... on Adjustment { id comments(first: 50) { totalCount edges { node { ...CommentItem } } } } }
  }
`);
const AddCommentDoc = graphql(`
  mutation AddComment($targetID: ID!, $body: String!) {
    addComment(input: { targetID: $targetID, body: $body }) { ...CommentItem }
  }
`);

type Props = {
  suggestions: SuggestionFragment[];
  role: Role;
  onDecided: (s: SuggestionFragment, task: TaskCardFragment | null | undefined) => void;
  comments: Record<string, CommentItemFragment[] | undefined>;
  setComments: (id: string, list: CommentItemFragment[]) => void;
};

export function Suggestions(props: Props) {
  return (
    <div className="suggestions">
      <h3>Suggestions</h3>
      <ul>
        {props.suggestions.map((s) => (
          <SuggestionItem key={s.id} s={s} {...props} />
        ))}
      </ul>
    </div>
  );
}

function SuggestionItem({ s, role, onDecided, comments, setComments }: Props & { s: SuggestionFragment }) {
  const client = useClient();
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const [showComments, setShowComments] = useState(false);
  const [draft, setDraft] = useState('');
  const canEdit = role === 'OWNER' || role === 'EDITOR';

  async function decide(kind: 'apply' | 'reject' | 'revert', force = false) {
    setBusy(true);
    const r =
      kind === 'apply'
        ? await client.mutation(ApplyDoc, { id: s.id, force }).toPromise()
        : kind === 'reject'
          ? await client.mutation(RejectDoc, { id: s.id }).toPromise()
          : await client.mutation(RevertDoc, { id: s.id }).toPromise();
    setBusy(false);
    if (r.error) return setProblem(describe(r.error));
    setProblem(null);
    const d = r.data && ('applyAdjustment' in r.data ? r.data.applyAdjustment : 'rejectAdjustment' in r.data ? r.data.rejectAdjustment : r.data.revertAdjustment);
    if (d) onDecided(d.adjustment, d.task);
  }
  async function vote(value: Vote) {
    const r = await client.mutation(VoteDoc, { id: s.id, value: s.viewerVote === value ? 'NONE' : value }).toPromise();
    if (r.error) return setProblem(describe(r.error));
    if (r.data) onDecided(r.data.voteAdjustment, undefined);
  }
  async function openComments() {
    setShowComments((v) => !v);
    if (comments[s.id]) return;
    const r = await client.query(CommentsDoc, { id: s.id }, { requestPolicy: 'network-only' }).toPromise();
    if (r.error) return setProblem(describe(r.error));
    const node = r.data?.node;
    if (node?.__typename === 'Adjustment') setComments(s.id, (node.comments.edges ?? []).flatMap((e) => (e?.node ? [e.node] : [])));
  }

  const list = comments[s.id];
  return (
    <li className="suggestion" data-suggestion-id={s.id} data-status={s.status}>
      <p>
        <span className="badge">{label(s.adjustmentType)}</span> <strong>{s.description}</strong>
      </p>
      {s.task && <p className="meta">Task: {s.task.title}</p>}
      {(s.originalValue != null || s.newValue != null) && (
        <p className="change">
          <span className="old">{s.originalValue ?? '—'}</span> → <span className="new">{s.newValue ?? '—'}</span>
        </p>
      )}
      {s.reasoning && <p className="reasoning">Why: {s.reasoning}</p>}
      {s.confidence != null && (
        <p className="meta confidence">Confidence: {Math.round(s.confidence * 100)}% (the model's own estimate)</p>
      )}
      <p className="meta">
        Status: <span className="suggestion-status">{label(s.status)}</span>
        {s.reason && ` (${s.reason})`}
      </p>
      <div className="actions">
        {role && (
          <span className="votes" role="group" aria-label="Vote">
            <button type="button" aria-pressed={s.viewerVote === 'UP'} onClick={() => vote('UP')} aria-label="Vote up">
              ▲
            </button>
            <span className="score">
              <span className="sr-only">Score </span>
              {s.score}
            </span>
            <button type="button" aria-pressed={s.viewerVote === 'DOWN'} onClick={() => vote('DOWN')} aria-label="Vote down">
              ▼
            </button>
          </span>
        )}
        {canEdit && s.status === 'PROPOSED' && (
          <>
            <button type="button" className="primary" disabled={busy} onClick={() => decide('apply')}>
              Apply
            </button>
            <button type="button" disabled={busy} onClick={() => decide('reject')}>
              Reject
            </button>
          </>
        )}
        {canEdit && s.status !== 'PROPOSED' && (
          <button type="button" disabled={busy} onClick={() => decide('revert')}>
            Revert
          </button>
        )}
        <button type="button" aria-expanded={showComments} onClick={openComments}>
          Comments{list ? ` (${list.length})` : ''}
        </button>
      </div>
      {problem?.conflict ? (
        <div role="alert" className="problem conflict">
          <p>{problem.message}</p>
          <p>
            The task's {problem.conflict.taskField ?? 'field'} is now <strong>{problem.conflict.currentValue ?? '(empty)'}</strong>
            {problem.conflict.expectedValue != null && <> (the suggestion expected {problem.conflict.expectedValue})</>}.
          </p>
          {problem.requestId && (
            <p className="request-id">
              Request ID: <code>{problem.requestId}</code>
            </p>
          )}
          <button type="button" className="primary" onClick={() => decide('apply', true)}>
            Apply anyway (force)
          </button>
          <button type="button" onClick={() => setProblem(null)}>
            Keep the current value
          </button>
        </div>
      ) : (
        <ProblemView problem={problem} />
      )}
      {showComments && (
        <div className="comments">
          <ul>
            {list?.map((c) => (
              <li key={c.id}>
                <span className="meta">{c.author?.name || c.author?.subject || 'someone'}:</span> {c.body}
              </li>
            ))}
          </ul>
          {role && (
            <form
              onSubmit={async (e) => {
                e.preventDefault();
                const r = await client.mutation(AddCommentDoc, { targetID: s.id, body: draft }).toPromise();
                if (r.error) return setProblem(describe(r.error));
                setDraft('');
                if (r.data) setComments(s.id, [...(list ?? []).filter((c) => c.id !== r.data!.addComment.id), r.data.addComment]);
              }}
            >
              <label htmlFor={`comment-${s.id}`}>Comment</label>
              <input id={`comment-${s.id}`} value={draft} onChange={(e) => setDraft(e.target.value)} required maxLength={5000} />
              <button type="submit">Add comment</button>
            </form>
          )}
        </div>
      )}
    </li>
  );
}
