/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  query Viewer {\n    viewer {\n      id\n      subject\n      name\n      kind\n      isAdmin\n      memberships { role project { id } }\n    }\n  }\n": typeof types.ViewerDocument,
    "\n  query Projects($after: Cursor) {\n    projects(first: 20, after: $after, orderBy: { field: CREATED_AT, direction: DESC }) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { node { id name description status } }\n    }\n  }\n": typeof types.ProjectsDocument,
    "\n  mutation CreateProject($name: String!) {\n    createProject(input: { name: $name }) { id name }\n  }\n": typeof types.CreateProjectDocument,
    "\n  query ProjectInsights($projectID: ID!) {\n    node(id: $projectID) { ... on Project { id name } }\n    projectInsights(projectID: $projectID) {\n      feedbackCount\n      feedbackPerDay { date count pending processing completed failed }\n      processingTime { count p50Ms p95Ms }\n      suggestions { total acceptanceRate byType { type total applied rejected pending acceptanceRate } }\n      models { provider model completed processingTime { p50Ms p95Ms } suggestions { total applied rejected acceptanceRate } }\n      topTasks { mentions task { id title } }\n      themes(first: 5) { text count }\n    }\n  }\n": typeof types.ProjectInsightsDocument,
    "\n  query ProjectHead($projectID: ID!) {\n    node(id: $projectID) { ... on Project { id name description } }\n  }\n": typeof types.ProjectHeadDocument,
    "\n  query BoardColumn($projectID: ID!, $status: TaskStatus!, $after: Cursor) {\n    node(id: $projectID) {\n      ... on Project {\n        id\n        tasks(first: 20, after: $after, where: { status: $status }, orderBy: { field: PRIORITY, direction: DESC }) {\n          totalCount\n          pageInfo { hasNextPage endCursor }\n          edges { node { ...TaskCard } }\n        }\n      }\n    }\n  }\n": typeof types.BoardColumnDocument,
    "\n  query FeedbackPage($projectID: ID!, $after: Cursor) {\n    node(id: $projectID) {\n      ... on Project {\n        id\n        feedbacks(first: 10, after: $after, orderBy: { field: CREATED_AT, direction: DESC }) {\n          totalCount\n          pageInfo { hasNextPage endCursor }\n          edges { node { ...FeedbackItem adjustments { ...Suggestion } } }\n        }\n      }\n    }\n  }\n": typeof types.FeedbackPageDocument,
    "\n  mutation CreateTask($input: CreateTaskInput!) {\n    createTask(input: $input) { ...TaskCard }\n  }\n": typeof types.CreateTaskDocument,
    "\n  mutation SubmitFeedback($input: SubmitFeedbackInput!) {\n    submitFeedback(input: $input) { ...FeedbackItem adjustments { ...Suggestion } }\n  }\n": typeof types.SubmitFeedbackDocument,
    "\n  mutation ApplySuggestion($id: ID!, $force: Boolean) {\n    applyAdjustment(id: $id, force: $force) { adjustment { ...Suggestion } task { ...TaskCard } }\n  }\n": typeof types.ApplySuggestionDocument,
    "\n  mutation RejectSuggestion($id: ID!, $reason: String) {\n    rejectAdjustment(id: $id, reason: $reason) { adjustment { ...Suggestion } task { ...TaskCard } }\n  }\n": typeof types.RejectSuggestionDocument,
    "\n  mutation RevertSuggestion($id: ID!) {\n    revertAdjustment(id: $id) { adjustment { ...Suggestion } task { ...TaskCard } }\n  }\n": typeof types.RevertSuggestionDocument,
    "\n  mutation VoteSuggestion($id: ID!, $value: Vote!) {\n    voteAdjustment(id: $id, value: $value) { ...Suggestion }\n  }\n": typeof types.VoteSuggestionDocument,
    "\n  query SuggestionComments($id: ID!) {\n    node(id: $id) { ... on Adjustment { id comments(first: 50) { totalCount edges { node { ...CommentItem } } } } }\n  }\n": typeof types.SuggestionCommentsDocument,
    "\n  mutation AddComment($targetID: ID!, $body: String!) {\n    addComment(input: { targetID: $targetID, body: $body }) { ...CommentItem }\n  }\n": typeof types.AddCommentDocument,
    "\n  subscription ProjectEvents($projectID: ID!, $after: String) {\n    projectEvents(projectID: $projectID, after: $after) {\n      __typename\n      ... on FeedbackStatusEvent {\n        cursor\n        feedbackStatus: status\n        feedback { ...FeedbackItem adjustments { ...Suggestion } }\n      }\n      ... on TaskEvent {\n        cursor\n        taskChange: change\n        task { ...TaskCard }\n      }\n      ... on AdjustmentEvent {\n        cursor\n        adjustmentStatus: status\n        adjustment { ...Suggestion }\n      }\n      ... on CommentEvent {\n        cursor\n        commentChange: change\n        comment { ...CommentItem adjustmentID feedbackID }\n      }\n      ... on VoteEvent {\n        cursor\n        score\n        adjustment { id score }\n      }\n    }\n  }\n": typeof types.ProjectEventsDocument,
    "\n  fragment TaskCard on Task {\n    id\n    title\n    description\n    status\n    priority\n    estimatedHours\n    version\n  }\n": typeof types.TaskCardFragmentDoc,
    "\n  fragment Suggestion on Adjustment {\n    id\n    feedbackID\n    adjustmentType\n    description\n    originalValue\n    newValue\n    reasoning\n    confidence\n    status\n    score\n    viewerVote\n    reason\n    task { id title }\n  }\n": typeof types.SuggestionFragmentDoc,
    "\n  fragment FeedbackItem on Feedback {\n    id\n    userName\n    feedbackText\n    status\n    summary\n    error\n    createdAt\n    model\n  }\n": typeof types.FeedbackItemFragmentDoc,
    "\n  fragment CommentItem on Comment {\n    id\n    body\n    createdAt\n    editedAt\n    author { id subject name }\n  }\n": typeof types.CommentItemFragmentDoc,
    "\n  query ProjectVelocity($projectID: ID!) {\n    projectVelocity(projectID: $projectID, weeks: 12) {\n      completed\n      cycleTime { count p50Hours p95Hours }\n      weeks { weekStart isoWeek completed cycleTime { p50Hours p95Hours } }\n    }\n  }\n": typeof types.ProjectVelocityDocument,
};
const documents: Documents = {
    "\n  query Viewer {\n    viewer {\n      id\n      subject\n      name\n      kind\n      isAdmin\n      memberships { role project { id } }\n    }\n  }\n": types.ViewerDocument,
    "\n  query Projects($after: Cursor) {\n    projects(first: 20, after: $after, orderBy: { field: CREATED_AT, direction: DESC }) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { node { id name description status } }\n    }\n  }\n": types.ProjectsDocument,
    "\n  mutation CreateProject($name: String!) {\n    createProject(input: { name: $name }) { id name }\n  }\n": types.CreateProjectDocument,
    "\n  query ProjectInsights($projectID: ID!) {\n    node(id: $projectID) { ... on Project { id name } }\n    projectInsights(projectID: $projectID) {\n      feedbackCount\n      feedbackPerDay { date count pending processing completed failed }\n      processingTime { count p50Ms p95Ms }\n      suggestions { total acceptanceRate byType { type total applied rejected pending acceptanceRate } }\n      models { provider model completed processingTime { p50Ms p95Ms } suggestions { total applied rejected acceptanceRate } }\n      topTasks { mentions task { id title } }\n      themes(first: 5) { text count }\n    }\n  }\n": types.ProjectInsightsDocument,
    "\n  query ProjectHead($projectID: ID!) {\n    node(id: $projectID) { ... on Project { id name description } }\n  }\n": types.ProjectHeadDocument,
    "\n  query BoardColumn($projectID: ID!, $status: TaskStatus!, $after: Cursor) {\n    node(id: $projectID) {\n      ... on Project {\n        id\n        tasks(first: 20, after: $after, where: { status: $status }, orderBy: { field: PRIORITY, direction: DESC }) {\n          totalCount\n          pageInfo { hasNextPage endCursor }\n          edges { node { ...TaskCard } }\n        }\n      }\n    }\n  }\n": types.BoardColumnDocument,
    "\n  query FeedbackPage($projectID: ID!, $after: Cursor) {\n    node(id: $projectID) {\n      ... on Project {\n        id\n        feedbacks(first: 10, after: $after, orderBy: { field: CREATED_AT, direction: DESC }) {\n          totalCount\n          pageInfo { hasNextPage endCursor }\n          edges { node { ...FeedbackItem adjustments { ...Suggestion } } }\n        }\n      }\n    }\n  }\n": types.FeedbackPageDocument,
    "\n  mutation CreateTask($input: CreateTaskInput!) {\n    createTask(input: $input) { ...TaskCard }\n  }\n": types.CreateTaskDocument,
    "\n  mutation SubmitFeedback($input: SubmitFeedbackInput!) {\n    submitFeedback(input: $input) { ...FeedbackItem adjustments { ...Suggestion } }\n  }\n": types.SubmitFeedbackDocument,
    "\n  mutation ApplySuggestion($id: ID!, $force: Boolean) {\n    applyAdjustment(id: $id, force: $force) { adjustment { ...Suggestion } task { ...TaskCard } }\n  }\n": types.ApplySuggestionDocument,
    "\n  mutation RejectSuggestion($id: ID!, $reason: String) {\n    rejectAdjustment(id: $id, reason: $reason) { adjustment { ...Suggestion } task { ...TaskCard } }\n  }\n": types.RejectSuggestionDocument,
    "\n  mutation RevertSuggestion($id: ID!) {\n    revertAdjustment(id: $id) { adjustment { ...Suggestion } task { ...TaskCard } }\n  }\n": types.RevertSuggestionDocument,
    "\n  mutation VoteSuggestion($id: ID!, $value: Vote!) {\n    voteAdjustment(id: $id, value: $value) { ...Suggestion }\n  }\n": types.VoteSuggestionDocument,
    "\n  query SuggestionComments($id: ID!) {\n    node(id: $id) { ... on Adjustment { id comments(first: 50) { totalCount edges { node { ...CommentItem } } } } }\n  }\n": types.SuggestionCommentsDocument,
    "\n  mutation AddComment($targetID: ID!, $body: String!) {\n    addComment(input: { targetID: $targetID, body: $body }) { ...CommentItem }\n  }\n": types.AddCommentDocument,
    "\n  subscription ProjectEvents($projectID: ID!, $after: String) {\n    projectEvents(projectID: $projectID, after: $after) {\n      __typename\n      ... on FeedbackStatusEvent {\n        cursor\n        feedbackStatus: status\n        feedback { ...FeedbackItem adjustments { ...Suggestion } }\n      }\n      ... on TaskEvent {\n        cursor\n        taskChange: change\n        task { ...TaskCard }\n      }\n      ... on AdjustmentEvent {\n        cursor\n        adjustmentStatus: status\n        adjustment { ...Suggestion }\n      }\n      ... on CommentEvent {\n        cursor\n        commentChange: change\n        comment { ...CommentItem adjustmentID feedbackID }\n      }\n      ... on VoteEvent {\n        cursor\n        score\n        adjustment { id score }\n      }\n    }\n  }\n": types.ProjectEventsDocument,
    "\n  fragment TaskCard on Task {\n    id\n    title\n    description\n    status\n    priority\n    estimatedHours\n    version\n  }\n": types.TaskCardFragmentDoc,
    "\n  fragment Suggestion on Adjustment {\n    id\n    feedbackID\n    adjustmentType\n    description\n    originalValue\n    newValue\n    reasoning\n    confidence\n    status\n    score\n    viewerVote\n    reason\n    task { id title }\n  }\n": types.SuggestionFragmentDoc,
    "\n  fragment FeedbackItem on Feedback {\n    id\n    userName\n    feedbackText\n    status\n    summary\n    error\n    createdAt\n    model\n  }\n": types.FeedbackItemFragmentDoc,
    "\n  fragment CommentItem on Comment {\n    id\n    body\n    createdAt\n    editedAt\n    author { id subject name }\n  }\n": types.CommentItemFragmentDoc,
    "\n  query ProjectVelocity($projectID: ID!) {\n    projectVelocity(projectID: $projectID, weeks: 12) {\n      completed\n      cycleTime { count p50Hours p95Hours }\n      weeks { weekStart isoWeek completed cycleTime { p50Hours p95Hours } }\n    }\n  }\n": types.ProjectVelocityDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Viewer {\n    viewer {\n      id\n      subject\n      name\n      kind\n      isAdmin\n      memberships { role project { id } }\n    }\n  }\n"): (typeof documents)["\n  query Viewer {\n    viewer {\n      id\n      subject\n      name\n      kind\n      isAdmin\n      memberships { role project { id } }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Projects($after: Cursor) {\n    projects(first: 20, after: $after, orderBy: { field: CREATED_AT, direction: DESC }) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { node { id name description status } }\n    }\n  }\n"): (typeof documents)["\n  query Projects($after: Cursor) {\n    projects(first: 20, after: $after, orderBy: { field: CREATED_AT, direction: DESC }) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { node { id name description status } }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateProject($name: String!) {\n    createProject(input: { name: $name }) { id name }\n  }\n"): (typeof documents)["\n  mutation CreateProject($name: String!) {\n    createProject(input: { name: $name }) { id name }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ProjectInsights($projectID: ID!) {\n    node(id: $projectID) { ... on Project { id name } }\n    projectInsights(projectID: $projectID) {\n      feedbackCount\n      feedbackPerDay { date count pending processing completed failed }\n      processingTime { count p50Ms p95Ms }\n      suggestions { total acceptanceRate byType { type total applied rejected pending acceptanceRate } }\n      models { provider model completed processingTime { p50Ms p95Ms } suggestions { total applied rejected acceptanceRate } }\n      topTasks { mentions task { id title } }\n      themes(first: 5) { text count }\n    }\n  }\n"): (typeof documents)["\n  query ProjectInsights($projectID: ID!) {\n    node(id: $projectID) { ... on Project { id name } }\n    projectInsights(projectID: $projectID) {\n      feedbackCount\n      feedbackPerDay { date count pending processing completed failed }\n      processingTime { count p50Ms p95Ms }\n      suggestions { total acceptanceRate byType { type total applied rejected pending acceptanceRate } }\n      models { provider model completed processingTime { p50Ms p95Ms } suggestions { total applied rejected acceptanceRate } }\n      topTasks { mentions task { id title } }\n      themes(first: 5) { text count }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ProjectHead($projectID: ID!) {\n    node(id: $projectID) { ... on Project { id name description } }\n  }\n"): (typeof documents)["\n  query ProjectHead($projectID: ID!) {\n    node(id: $projectID) { ... on Project { id name description } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query BoardColumn($projectID: ID!, $status: TaskStatus!, $after: Cursor) {\n    node(id: $projectID) {\n      ... on Project {\n        id\n        tasks(first: 20, after: $after, where: { status: $status }, orderBy: { field: PRIORITY, direction: DESC }) {\n          totalCount\n          pageInfo { hasNextPage endCursor }\n          edges { node { ...TaskCard } }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query BoardColumn($projectID: ID!, $status: TaskStatus!, $after: Cursor) {\n    node(id: $projectID) {\n      ... on Project {\n        id\n        tasks(first: 20, after: $after, where: { status: $status }, orderBy: { field: PRIORITY, direction: DESC }) {\n          totalCount\n          pageInfo { hasNextPage endCursor }\n          edges { node { ...TaskCard } }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query FeedbackPage($projectID: ID!, $after: Cursor) {\n    node(id: $projectID) {\n      ... on Project {\n        id\n        feedbacks(first: 10, after: $after, orderBy: { field: CREATED_AT, direction: DESC }) {\n          totalCount\n          pageInfo { hasNextPage endCursor }\n          edges { node { ...FeedbackItem adjustments { ...Suggestion } } }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query FeedbackPage($projectID: ID!, $after: Cursor) {\n    node(id: $projectID) {\n      ... on Project {\n        id\n        feedbacks(first: 10, after: $after, orderBy: { field: CREATED_AT, direction: DESC }) {\n          totalCount\n          pageInfo { hasNextPage endCursor }\n          edges { node { ...FeedbackItem adjustments { ...Suggestion } } }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateTask($input: CreateTaskInput!) {\n    createTask(input: $input) { ...TaskCard }\n  }\n"): (typeof documents)["\n  mutation CreateTask($input: CreateTaskInput!) {\n    createTask(input: $input) { ...TaskCard }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SubmitFeedback($input: SubmitFeedbackInput!) {\n    submitFeedback(input: $input) { ...FeedbackItem adjustments { ...Suggestion } }\n  }\n"): (typeof documents)["\n  mutation SubmitFeedback($input: SubmitFeedbackInput!) {\n    submitFeedback(input: $input) { ...FeedbackItem adjustments { ...Suggestion } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ApplySuggestion($id: ID!, $force: Boolean) {\n    applyAdjustment(id: $id, force: $force) { adjustment { ...Suggestion } task { ...TaskCard } }\n  }\n"): (typeof documents)["\n  mutation ApplySuggestion($id: ID!, $force: Boolean) {\n    applyAdjustment(id: $id, force: $force) { adjustment { ...Suggestion } task { ...TaskCard } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RejectSuggestion($id: ID!, $reason: String) {\n    rejectAdjustment(id: $id, reason: $reason) { adjustment { ...Suggestion } task { ...TaskCard } }\n  }\n"): (typeof documents)["\n  mutation RejectSuggestion($id: ID!, $reason: String) {\n    rejectAdjustment(id: $id, reason: $reason) { adjustment { ...Suggestion } task { ...TaskCard } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RevertSuggestion($id: ID!) {\n    revertAdjustment(id: $id) { adjustment { ...Suggestion } task { ...TaskCard } }\n  }\n"): (typeof documents)["\n  mutation RevertSuggestion($id: ID!) {\n    revertAdjustment(id: $id) { adjustment { ...Suggestion } task { ...TaskCard } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation VoteSuggestion($id: ID!, $value: Vote!) {\n    voteAdjustment(id: $id, value: $value) { ...Suggestion }\n  }\n"): (typeof documents)["\n  mutation VoteSuggestion($id: ID!, $value: Vote!) {\n    voteAdjustment(id: $id, value: $value) { ...Suggestion }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query SuggestionComments($id: ID!) {\n    node(id: $id) { ... on Adjustment { id comments(first: 50) { totalCount edges { node { ...CommentItem } } } } }\n  }\n"): (typeof documents)["\n  query SuggestionComments($id: ID!) {\n    node(id: $id) { ... on Adjustment { id comments(first: 50) { totalCount edges { node { ...CommentItem } } } } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation AddComment($targetID: ID!, $body: String!) {\n    addComment(input: { targetID: $targetID, body: $body }) { ...CommentItem }\n  }\n"): (typeof documents)["\n  mutation AddComment($targetID: ID!, $body: String!) {\n    addComment(input: { targetID: $targetID, body: $body }) { ...CommentItem }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription ProjectEvents($projectID: ID!, $after: String) {\n    projectEvents(projectID: $projectID, after: $after) {\n      __typename\n      ... on FeedbackStatusEvent {\n        cursor\n        feedbackStatus: status\n        feedback { ...FeedbackItem adjustments { ...Suggestion } }\n      }\n      ... on TaskEvent {\n        cursor\n        taskChange: change\n        task { ...TaskCard }\n      }\n      ... on AdjustmentEvent {\n        cursor\n        adjustmentStatus: status\n        adjustment { ...Suggestion }\n      }\n      ... on CommentEvent {\n        cursor\n        commentChange: change\n        comment { ...CommentItem adjustmentID feedbackID }\n      }\n      ... on VoteEvent {\n        cursor\n        score\n        adjustment { id score }\n      }\n    }\n  }\n"): (typeof documents)["\n  subscription ProjectEvents($projectID: ID!, $after: String) {\n    projectEvents(projectID: $projectID, after: $after) {\n      __typename\n      ... on FeedbackStatusEvent {\n        cursor\n        feedbackStatus: status\n        feedback { ...FeedbackItem adjustments { ...Suggestion } }\n      }\n      ... on TaskEvent {\n        cursor\n        taskChange: change\n        task { ...TaskCard }\n      }\n      ... on AdjustmentEvent {\n        cursor\n        adjustmentStatus: status\n        adjustment { ...Suggestion }\n      }\n      ... on CommentEvent {\n        cursor\n        commentChange: change\n        comment { ...CommentItem adjustmentID feedbackID }\n      }\n      ... on VoteEvent {\n        cursor\n        score\n        adjustment { id score }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment TaskCard on Task {\n    id\n    title\n    description\n    status\n    priority\n    estimatedHours\n    version\n  }\n"): (typeof documents)["\n  fragment TaskCard on Task {\n    id\n    title\n    description\n    status\n    priority\n    estimatedHours\n    version\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment Suggestion on Adjustment {\n    id\n    feedbackID\n    adjustmentType\n    description\n    originalValue\n    newValue\n    reasoning\n    confidence\n    status\n    score\n    viewerVote\n    reason\n    task { id title }\n  }\n"): (typeof documents)["\n  fragment Suggestion on Adjustment {\n    id\n    feedbackID\n    adjustmentType\n    description\n    originalValue\n    newValue\n    reasoning\n    confidence\n    status\n    score\n    viewerVote\n    reason\n    task { id title }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment FeedbackItem on Feedback {\n    id\n    userName\n    feedbackText\n    status\n    summary\n    error\n    createdAt\n    model\n  }\n"): (typeof documents)["\n  fragment FeedbackItem on Feedback {\n    id\n    userName\n    feedbackText\n    status\n    summary\n    error\n    createdAt\n    model\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment CommentItem on Comment {\n    id\n    body\n    createdAt\n    editedAt\n    author { id subject name }\n  }\n"): (typeof documents)["\n  fragment CommentItem on Comment {\n    id\n    body\n    createdAt\n    editedAt\n    author { id subject name }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ProjectVelocity($projectID: ID!) {\n    projectVelocity(projectID: $projectID, weeks: 12) {\n      completed\n      cycleTime { count p50Hours p95Hours }\n      weeks { weekStart isoWeek completed cycleTime { p50Hours p95Hours } }\n    }\n  }\n"): (typeof documents)["\n  query ProjectVelocity($projectID: ID!) {\n    projectVelocity(projectID: $projectID, weeks: 12) {\n      completed\n      cycleTime { count p50Hours p95Hours }\n      weeks { weekStart isoWeek completed cycleTime { p50Hours p95Hours } }\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;