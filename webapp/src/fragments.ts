// The shapes the screens show, one fragment per kind of thing; queries,
// mutations and the event stream all select these, so a task from an event
// is the same shape as a task from the board's query.
import { graphql } from './gql';

export const TaskCardFragment = graphql(`
  fragment TaskCard on Task {
    id
    title
    description
    status
    priority
    estimatedHours
    version
  }
`);

export const SuggestionFragment = graphql(`
  fragment Suggestion on Adjustment {
    id
    feedbackID
    adjustmentType
    description
    originalValue
    newValue
    reasoning
    confidence
    status
    score
    viewerVote
    reason
    task { id title }
  }
`);

export const FeedbackItemFragment = graphql(`
  fragment FeedbackItem on Feedback {
    id
    userName
    feedbackText
    status
    summary
    error
    createdAt
    model
  }
`);

export const CommentItemFragment = graphql(`
  fragment CommentItem on Comment {
    id
    body
    createdAt
    editedAt
    author { id subject name }
  }
`);
