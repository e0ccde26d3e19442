/* eslint-disable */
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';
export type Maybe<T> = T | null;
export type InputMaybe<T> = Maybe<T>;
export type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
export type MakeOptional<T, K extends keyof T> = Omit<T, K> & { [SubKey in K]?: Maybe<T[SubKey]> };
export type MakeMaybe<T, K extends keyof T> = Omit<T, K> & { [SubKey in K]: Maybe<T[SubKey]> };
export type MakeEmpty<T extends { [key: string]: unknown }, K extends keyof T> = { [_ in K]?: never };
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
/** All built-in and custom scalars, mapped to their actual values */
export type Scalars = {
  ID: { input: string; output: string; }
  String: { input: string; output: string; }
  Boolean: { input: boolean; output: boolean; }
  Int: { input: number; output: number; }
  Float: { input: number; output: number; }
  /**
   * Define a Relay Cursor type:
   * https://relay.dev/graphql/connections.htm#sec-Cursor
   */
  Cursor: { input: string; output: string; }
  /** The builtin Time type */
  Time: { input: string; output: string; }
};

export type AddCommentInput = {
  /** The comment, 1 to 5,000 characters (trimmed). */
  body: Scalars['String']['input'];
  /** The ID of the Feedback or the Adjustment (suggestion) to comment on. */
  targetID: Scalars['ID']['input'];
};

export type AddOrganizationMemberInput = {
  /** The issuer of the person's tokens; defaults as in addProjectMember. */
  issuer?: InputMaybe<Scalars['String']['input']>;
  organizationID: Scalars['ID']['input'];
  role: OrganizationRole;
  /** The subject of the person's credentials (the JWT sub claim), 1 to 255 characters. */
  subject: Scalars['String']['input'];
};

export type AddProjectMemberInput = {
  /**
   * The issuer of the person's tokens (their iss claim), up to 255 characters.
   * Defaults to the server's JWT_ISSUER, or "" when none is set (tokens
   * without iss). A person is their subject at their issuer: the same subject
   * from another issuer is someone else.
   */
  issuer?: InputMaybe<Scalars['String']['input']>;
  projectID: Scalars['ID']['input'];
  role: Role;
  /** The subject of the person's credentials (the JWT sub claim), 1 to 255 characters. */
  subject: Scalars['String']['input'];
};

export type Adjustment = Node & {
  __typename?: 'Adjustment';
  adjustmentType: AdjustmentType;
  autoApplyRule?: Maybe<AutoApplyRule>;
  /** The auto-apply rule that applied the suggestion; null when a person decided (or the rule was deleted since). */
  autoApplyRuleID?: Maybe<Scalars['ID']['output']>;
  /** What the analysis said the task held, when that differs from originalValue: the model misread the task, or the task changed while it thought. Information only; nothing checks against it. */
  claimedOriginalValue?: Maybe<Scalars['String']['output']>;
  comments: CommentConnection;
  /** The model's (or the built-in rules') confidence in the suggestion, 0 to 1: a claim, validated on the way in; null for suggestions made before confidence existed. */
  confidence?: Maybe<Scalars['Float']['output']>;
  createdAt: Scalars['Time']['output'];
  decidedAt?: Maybe<Scalars['Time']['output']>;
  decidedBy?: Maybe<User>;
  /** Who applied or rejected the suggestion (for an apply by an auto-apply rule, the rule's author). */
  decidedByID?: Maybe<Scalars['ID']['output']>;
  description: Scalars['String']['output'];
  feedback: Feedback;
  feedbackID: Scalars['ID']['output'];
  id: Scalars['ID']['output'];
  newValue?: Maybe<Scalars['String']['output']>;
  /** What the task held when the analysis was stored, read from the task (its title for REMOVE_TASK; null for NEW_TASK and GENERAL). Applying compares the task with it. */
  originalValue?: Maybe<Scalars['String']['output']>;
  /** Why it was rejected (or applied), in the decider's words. */
  reason?: Maybe<Scalars['String']['output']>;
  reasoning?: Maybe<Scalars['String']['output']>;
  /** What REMOVE_TASK deleted, once applied. */
  removedTask?: Maybe<RemovedTask>;
  /** Up votes minus down votes (voteAdjustment), kept with every vote in its transaction. */
  score: Scalars['Int']['output'];
  /** A suggestion is PROPOSED until someone applies it to the plan or rejects it. */
  status: AdjustmentStatus;
  task?: Maybe<Task>;
  taskID?: Maybe<Scalars['ID']['output']>;
  /** Incremented on every decision (apply, reject, revert). */
  version: Scalars['Int']['output'];
  /** The caller's vote on the suggestion: null when it has none. */
  viewerVote?: Maybe<Vote>;
};


export type AdjustmentCommentsArgs = {
  after?: InputMaybe<Scalars['Cursor']['input']>;
  before?: InputMaybe<Scalars['Cursor']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  last?: InputMaybe<Scalars['Int']['input']>;
};

/** A connection to a list of items. */
export type AdjustmentConnection = {
  __typename?: 'AdjustmentConnection';
  /** A list of edges. */
  edges?: Maybe<Array<Maybe<AdjustmentEdge>>>;
  /** Information to aid in pagination. */
  pageInfo: PageInfo;
  /** Identifies the total count of items in the connection. */
  totalCount: Scalars['Int']['output'];
};

/**
 * A decision on a suggestion (applied, rejected or reverted) and the task it
 * concerns, as they are now: every decision answers with this shape.
 */
export type AdjustmentDecisionPayload = {
  __typename?: 'AdjustmentDecisionPayload';
  adjustment: Adjustment;
  /**
   * The suggestion's task as the decision left it: changed or created by an
   * apply, restored by a revert, unchanged by a rejection. Null for advice and
   * for a removed task.
   */
  task?: Maybe<Task>;
};

/** An edge in a connection. */
export type AdjustmentEdge = {
  __typename?: 'AdjustmentEdge';
  /** A cursor for use in pagination. */
  cursor: Scalars['Cursor']['output'];
  /** The item at the end of the edge. */
  node?: Maybe<Adjustment>;
};

/** A suggestion was applied, rejected or reverted (PROPOSED again). */
export type AdjustmentEvent = {
  __typename?: 'AdjustmentEvent';
  adjustment: Adjustment;
  at: Scalars['Time']['output'];
  by?: Maybe<User>;
  /** Pass as after to resume after this event. */
  cursor: Scalars['String']['output'];
  status: AdjustmentStatus;
};

/** Ordering options for Adjustment connections */
export type AdjustmentOrder = {
  /** The ordering direction. */
  direction?: OrderDirection;
  /** The field by which to order Adjustments. */
  field: AdjustmentOrderField;
};

/** Properties by which Adjustment connections can be ordered. */
export type AdjustmentOrderField =
  | 'CONFIDENCE'
  | 'SCORE';

/** AdjustmentStatus is enum for the field status */
export type AdjustmentStatus =
  | 'APPLIED'
  | 'PROPOSED'
  | 'REJECTED';

/** AdjustmentType is enum for the field adjustment_type */
export type AdjustmentType =
  | 'GENERAL'
  | 'NEW_TASK'
  | 'REMOVE_TASK'
  | 'TASK_DESCRIPTION'
  | 'TASK_ESTIMATE'
  | 'TASK_PRIORITY'
  | 'TASK_STATUS';

/**
 * AdjustmentWhereInput is used for filtering Adjustment objects.
 * Input was generated by ent.
 */
export type AdjustmentWhereInput = {
  /** adjustment_type field predicates */
  adjustmentType?: InputMaybe<AdjustmentType>;
  adjustmentTypeIn?: InputMaybe<Array<AdjustmentType>>;
  adjustmentTypeNEQ?: InputMaybe<AdjustmentType>;
  adjustmentTypeNotIn?: InputMaybe<Array<AdjustmentType>>;
  and?: InputMaybe<Array<AdjustmentWhereInput>>;
  /** auto_apply_rule_id field predicates */
  autoApplyRuleID?: InputMaybe<Scalars['ID']['input']>;
  autoApplyRuleIDIn?: InputMaybe<Array<Scalars['ID']['input']>>;
  autoApplyRuleIDIsNil?: InputMaybe<Scalars['Boolean']['input']>;
  autoApplyRuleIDNEQ?: InputMaybe<Scalars['ID']['input']>;
  autoApplyRuleIDNotIn?: InputMaybe<Array<Scalars['ID']['input']>>;
  autoApplyRuleIDNotNil?: InputMaybe<Scalars['Boolean']['input']>;
  /** confidence field predicates */
  confidence?: InputMaybe<Scalars['Float']['input']>;
  confidenceGT?: InputMaybe<Scalars['Float']['input']>;
  confidenceGTE?: InputMaybe<Scalars['Float']['input']>;
  confidenceIn?: InputMaybe<Array<Scalars['Float']['input']>>;
  confidenceIsNil?: InputMaybe<Scalars['Boolean']['input']>;
  confidenceLT?: InputMaybe<Scalars['Float']['input']>;
  confidenceLTE?: InputMaybe<Scalars['Float']['input']>;
  confidenceNEQ?: InputMaybe<Scalars['Float']['input']>;
  confidenceNotIn?: InputMaybe<Array<Scalars['Float']['input']>>;
  confidenceNotNil?: InputMaybe<Scalars['Boolean']['input']>;
  /** created_at field predicates */
  createdAt?: InputMaybe<Scalars['Time']['input']>;
  createdAtGT?: InputMaybe<Scalars['Time']['input']>;
  createdAtGTE?: InputMaybe<Scalars['Time']['input']>;
  createdAtIn?: InputMaybe<Array<Scalars['Time']['input']>>;
  createdAtLT?: InputMaybe<Scalars['Time']['input']>;
  createdAtLTE?: InputMaybe<Scalars['Time']['input']>;
  createdAtNEQ?: InputMaybe<Scalars['Time']['input']>;
  createdAtNotIn?: InputMaybe<Array<Scalars['Time']['input']>>;
  /** decided_at field predicates */
  decidedAt?: InputMaybe<Scalars['Time']['input']>;
  decidedAtGT?: InputMaybe<Scalars['Time']['input']>;
  decidedAtGTE?: InputMaybe<Scalars['Time']['input']>;
  decidedAtIn?: InputMaybe<Array<Scalars['Time']['input']>>;
  decidedAtIsNil?: InputMaybe<Scalars['Boolean']['input']>;
  decidedAtLT?: InputMaybe<Scalars['Time']['input']>;
  decidedAtLTE?: InputMaybe<Scalars['Time']['input']>;
  decidedAtNEQ?: InputMaybe<Scalars['Time']['input']>;
  decidedAtNotIn?: InputMaybe<Array<Scalars['Time']['input']>>;
  decidedAtNotNil?: InputMaybe<Scalars['Boolean']['input']>;
  /** decided_by_id field predicates */
  decidedByID?: InputMaybe<Scalars['ID']['input']>;
  decidedByIDIn?: InputMaybe<Array<Scalars['ID']['input']>>;
  decidedByIDIsNil?: InputMaybe<Scalars['Boolean']['input']>;
  decidedByIDNEQ?: InputMaybe<Scalars['ID']['input']>;
  decidedByIDNotIn?: InputMaybe<Array<Scalars['ID']['input']>>;
  decidedByIDNotNil?: InputMaybe<Scalars['Boolean']['input']>;
  /** description field predicates */
  description?: InputMaybe<Scalars['String']['input']>;
  descriptionContains?: InputMaybe<Scalars['String']['input']>;
  descriptionContainsFold?: InputMaybe<Scalars['String']['input']>;
  descriptionEqualFold?: InputMaybe<Scalars['String']['input']>;
  descriptionGT?: InputMaybe<Scalars['String']['input']>;
  descriptionGTE?: InputMaybe<Scalars['String']['input']>;
  descriptionHasPrefix?: InputMaybe<Scalars['String']['input']>;
  descriptionHasSuffix?: InputMaybe<Scalars['String']['input']>;
  descriptionIn?: InputMaybe<Array<Scalars['String']['input']>>;
  descriptionLT?: InputMaybe<Scalars['String']['input']>;
  descriptionLTE?: InputMaybe<Scalars['String']['input']>;
  descriptionNEQ?: InputMaybe<Scalars['String']['input']>;
  descriptionNotIn?: InputMaybe<Array<Scalars['String']['input']>>;
  /** feedback_id field predicates */
  feedbackID?: InputMaybe<Scalars['ID']['input']>;
  feedbackIDIn?: InputMaybe<Array<Scalars['ID']['input']>>;
  feedbackIDNEQ?: InputMaybe<Scalars['ID']['input']>;
  feedbackIDNotIn?: InputMaybe<Array<Scalars['ID']['input']>>;
  /** feedback edge predicates */
  hasFeedback?: InputMaybe<Scalars['Boolean']['input']>;
  hasFeedbackWith?: InputMaybe<Array<FeedbackWhereInput>>;
  /** task edge predicates */
  hasTask?: InputMaybe<Scalars['Boolean']['input']>;
  hasTaskWith?: InputMaybe<Array<TaskWhereInput>>;
  /** id field predicates */
  id?: InputMaybe<Scalars['ID']['input']>;
  idGT?: InputMaybe<Scalars['ID']['input']>;
  idGTE?: InputMaybe<Scalars['ID']['input']>;
  idIn?: InputMaybe<Array<Scalars['ID']['input']>>;
  idLT?: InputMaybe<Scalars['ID']['input']>;
  idLTE?: InputMaybe<Scalars['ID']['input']>;
  idNEQ?: InputMaybe<Scalars['ID']['input']>;
  idNotIn?: InputMaybe<Array<Scalars['ID']['input']>>;
  /** new_value field predicates */
  newValue?: InputMaybe<Scalars['String']['input']>;
  newValueContains?: InputMaybe<Scalars['String']['input']>;
  newValueContainsFold?: InputMaybe<Scalars['String']['input']>;
  newValueEqualFold?: InputMaybe<Scalars['String']['input']>;
  newValueGT?: InputMaybe<Scalars['String']['input']>;
  newValueGTE?: InputMaybe<Scalars['String']['input']>;
  newValueHasPrefix?: InputMaybe<Scalars['String']['input']>;
  newValueHasSuffix?: InputMaybe<Scalars['String']['input']>;
  newValueIn?: InputMaybe<Array<Scalars['String']['input']>>;
  newValueIsNil?: InputMaybe<Scalars['Boolean']['input']>;
  newValueLT?: InputMaybe<Scalars['String']['input']>;
  newValueLTE?: InputMaybe<Scalars['String']['input']>;
  newValueNEQ?: InputMaybe<Scalars['String']['input']>;
  newValueNotIn?: InputMaybe<Array<Scalars['String']['input']>>;
  newValueNotNil?: InputMaybe<Scalars['Boolean']['input']>;
  not?: InputMaybe<AdjustmentWhereInput>;
  or?: InputMaybe<Array<AdjustmentWhereInput>>;
  /** original_value field predicates */
  originalValue?: InputMaybe<Scalars['String']['input']>;
  originalValueContains?: InputMaybe<Scalars['String']['input']>;
  originalValueContainsFold?: InputMaybe<Scalars['String']['input']>;
  originalValueEqualFold?: InputMaybe<Scalars['String']['input']>;
  originalValueGT?: InputMaybe<Scalars['String']['input']>;
  originalValueGTE?: InputMaybe<Scalars['String']['input']>;
  originalValueHasPrefix?: InputMaybe<Scalars['String']['input']>;
  originalValueHasSuffix?: InputMaybe<Scalars['String']['input']>;
  originalValueIn?: InputMaybe<Array<Scalars['String']['input']>>;
  originalValueIsNil?: InputMaybe<Scalars['Boolean']['input']>;
  originalValueLT?: InputMaybe<Scalars['String']['input']>;
  originalValueLTE?: InputMaybe<Scalars['String']['input']>;
  originalValueNEQ?: InputMaybe<Scalars['String']['input']>;
  originalValueNotIn?: InputMaybe<Array<Scalars['String']['input']>>;
  originalValueNotNil?: InputMaybe<Scalars['Boolean']['input']>;
  /** reason field predicates */
  reason?: InputMaybe<Scalars['String']['input']>;
  reasonContains?: InputMaybe<Scalars['String']['input']>;
  reasonContainsFold?: InputMaybe<Scalars['String']['input']>;
  reasonEqualFold?: InputMaybe<Scalars['String']['input']>;
  reasonGT?: InputMaybe<Scalars['String']['input']>;
  reasonGTE?: InputMaybe<Scalars['String']['input']>;
  reasonHasPrefix?: InputMaybe<Scalars['String']['input']>;
  reasonHasSuffix?: InputMaybe<Scalars['String']['input']>;
  reasonIn?: InputMaybe<Array<Scalars['String']['input']>>;
  reasonIsNil?: InputMaybe<Scalars['Boolean']['input']>;
  reasonLT?: InputMaybe<Scalars['String']['input']>;
  reasonLTE?: InputMaybe<Scalars['String']['input']>;
  reasonNEQ?: InputMaybe<Scalars['String']['input']>;
  reasonNotIn?: InputMaybe<Array<Scalars['String']['input']>>;
  reasonNotNil?: InputMaybe<Scalars['Boolean']['input']>;
  /** reasoning field predicates */
  reasoning?: InputMaybe<Scalars['String']['input']>;
  reasoningContains?: InputMaybe<Scalars['String']['input']>;
  reasoningContainsFold?: InputMaybe<Scalars['String']['input']>;
  reasoningEqualFold?: InputMaybe<Scalars['String']['input']>;
  reasoningGT?: InputMaybe<Scalars['String']['input']>;
  reasoningGTE?: InputMaybe<Scalars['String']['input']>;
  reasoningHasPrefix?: InputMaybe<Scalars['String']['input']>;
  reasoningHasSuffix?: InputMaybe<Scalars['String']['input']>;
  reasoningIn?: InputMaybe<Array<Scalars['String']['input']>>;
  reasoningIsNil?: InputMaybe<Scalars['Boolean']['input']>;
  reasoningLT?: InputMaybe<Scalars['String']['input']>;
  reasoningLTE?: InputMaybe<Scalars['String']['input']>;
  reasoningNEQ?: InputMaybe<Scalars['String']['input']>;
  reasoningNotIn?: InputMaybe<Array<Scalars['String']['input']>>;
  reasoningNotNil?: InputMaybe<Scalars['Boolean']['input']>;
  /** score field predicates */
  score?: InputMaybe<Scalars['Int']['input']>;
  scoreGT?: InputMaybe<Scalars['Int']['input']>;
  scoreGTE?: InputMaybe<Scalars['Int']['input']>;
  scoreIn?: InputMaybe<Array<Scalars['Int']['input']>>;
  scoreLT?: InputMaybe<Scalars['Int']['input']>;
  scoreLTE?: InputMaybe<Scalars['Int']['input']>;
  scoreNEQ?: InputMaybe<Scalars['Int']['input']>;
  scoreNotIn?: InputMaybe<Array<Scalars['Int']['input']>>;
  /** status field predicates */
  status?: InputMaybe<AdjustmentStatus>;
  statusIn?: InputMaybe<Array<AdjustmentStatus>>;
  statusNEQ?: InputMaybe<AdjustmentStatus>;
  statusNotIn?: InputMaybe<Array<AdjustmentStatus>>;
  /** task_id field predicates */
  taskID?: InputMaybe<Scalars['ID']['input']>;
  taskIDIn?: InputMaybe<Array<Scalars['ID']['input']>>;
  taskIDIsNil?: InputMaybe<Scalars['Boolean']['input']>;
  taskIDNEQ?: InputMaybe<Scalars['ID']['input']>;
  taskIDNotIn?: InputMaybe<Array<Scalars['ID']['input']>>;
  taskIDNotNil?: InputMaybe<Scalars['Boolean']['input']>;
  /** version field predicates */
  version?: InputMaybe<Scalars['Int']['input']>;
  versionGT?: InputMaybe<Scalars['Int']['input']>;
  versionGTE?: InputMaybe<Scalars['Int']['input']>;
  versionIn?: InputMaybe<Array<Scalars['Int']['input']>>;
  versionLT?: InputMaybe<Scalars['Int']['input']>;
  versionLTE?: InputMaybe<Scalars['Int']['input']>;
  versionNEQ?: InputMaybe<Scalars['Int']['input']>;
  versionNotIn?: InputMaybe<Array<Scalars['Int']['input']>>;
};

export type Analysis = Node & {
  __typename?: 'Analysis';
  completedAt?: Maybe<Scalars['Time']['output']>;
  createdAt: Scalars['Time']['output'];
  droppedSuggestions: Scalars['Int']['output'];
  /** Why the run failed, in words fit for the user. */
  error?: Maybe<Scalars['String']['output']>;
  /** What the run is estimated to have cost by the price table (LLM_PRICES), in its currency; null without a price or tokens. */
  estimatedCost?: Maybe<Scalars['Float']['output']>;
  feedback: Feedback;
  feedbackID: Scalars['ID']['output'];
  id: Scalars['ID']['output'];
  inputTokens?: Maybe<Scalars['Int']['output']>;
  /** How long the analyzer took to answer, in milliseconds; null until it did, and for a reused analysis. */
  latencyMs?: Maybe<Scalars['Int']['output']>;
  model: Scalars['String']['output'];
  outputTokens?: Maybe<Scalars['Int']['output']>;
  /** True for the analysis whose suggestions are the feedback's adjustments; false for a comparison run. */
  primary: Scalars['Boolean']['output'];
  /** The provider asked (openai, anthropic, ollama, googleai or builtin). */
  provider: Scalars['String']['output'];
  status: AnalysisStatus;
  /**
   * What the analysis suggested, as the model claimed it, in its order. Of
   * the primary analysis, the applicable suggestions are the feedback's
   * adjustments; a comparison run's are only claims, for comparison.
   */
  suggestions: Array<AnalysisSuggestion>;
  summary?: Maybe<Scalars['String']['output']>;
};

/** The priority of a feedback's analysis (see SubmitFeedbackInput.priority). */
export type AnalysisPriority =
  | 'HIGH'
  | 'LOW'
  | 'NORMAL';

/** A model's analyses in projectInsights' window. */
export type AnalysisRunStats = {
  __typename?: 'AnalysisRunStats';
  /** The comparison runs' tokens and estimated cost (primary analyses' are in spend). */
  comparisonSpend: SpendStats;
  /** Comparison runs by status. */
  comparisonsCompleted: Scalars['Int']['output'];
  comparisonsFailed: Scalars['Int']['output'];
  comparisonsPending: Scalars['Int']['output'];
  /** The model's answer time over its primary and comparison runs that recorded one (reused analyses do not). */
  latency: ProcessingTimeStats;
  /** Primary analyses recorded (COMPLETED feedback analysed by this model). */
  primary: Scalars['Int']['output'];
};

/** AnalysisStatus is enum for the field status */
export type AnalysisStatus =
  | 'COMPLETED'
  | 'FAILED'
  | 'PENDING';

/** One suggestion of an analysis, as the model made it: a claim, not applied. */
export type AnalysisSuggestion = {
  __typename?: 'AnalysisSuggestion';
  description: Scalars['String']['output'];
  newValue?: Maybe<Scalars['String']['output']>;
  /** What the model said the task held. */
  originalValue?: Maybe<Scalars['String']['output']>;
  reasoning?: Maybe<Scalars['String']['output']>;
  task?: Maybe<Task>;
  type: AdjustmentType;
};

export type ApiKey = Node & {
  __typename?: 'ApiKey';
  createdAt: Scalars['Time']['output'];
  expiresAt?: Maybe<Scalars['Time']['output']>;
  id: Scalars['ID']['output'];
  lastUsedAt?: Maybe<Scalars['Time']['output']>;
  name: Scalars['String']['output'];
  owner: User;
  /** The secret's first characters, to recognise the key in lists. */
  prefix: Scalars['String']['output'];
  project?: Maybe<Project>;
  projectID?: Maybe<Scalars['ID']['output']>;
  revokedAt?: Maybe<Scalars['Time']['output']>;
  role?: Maybe<Role>;
  userID: Scalars['ID']['output'];
};

/** A connection to a list of items. */
export type ApiKeyConnection = {
  __typename?: 'ApiKeyConnection';
  /** A list of edges. */
  edges?: Maybe<Array<Maybe<ApiKeyEdge>>>;
  /** Information to aid in pagination. */
  pageInfo: PageInfo;
  /** Identifies the total count of items in the connection. */
  totalCount: Scalars['Int']['output'];
};

/** An edge in a connection. */
export type ApiKeyEdge = {
  __typename?: 'ApiKeyEdge';
  /** A cursor for use in pagination. */
  cursor: Scalars['Cursor']['output'];
  /** The item at the end of the edge. */
  node?: Maybe<ApiKey>;
};

/** Ordering options for ApiKey connections */
export type ApiKeyOrder = {
  /** The ordering direction. */
  direction?: OrderDirection;
  /** The field by which to order ApiKeys. */
  field: ApiKeyOrderField;
};

/** Properties by which ApiKey connections can be ordered. */
export type ApiKeyOrderField =
  | 'CREATED_AT';

export type AutoApplyDryRun = {
  __typename?: 'AutoApplyDryRun';
  /** Of wouldApply, the ones applied since (by people or a rule). */
  applied: Scalars['Int']['output'];
  /** wouldApply by the rule that matches first, in the order of the rules evaluated (the project's by ID, or those given). */
  byRule: Array<Scalars['Int']['output']>;
  /** Of wouldApply, the ones still PROPOSED. */
  proposed: Scalars['Int']['output'];
  /** Of wouldApply, the ones people rejected: what the rules would have applied against the team's judgement. */
  rejected: Scalars['Int']['output'];
  /** The start of the window: now less the days asked. */
  since: Scalars['Time']['output'];
  /** Suggestions made in the window, of every kind. */
  suggestions: Scalars['Int']['output'];
  /** Of those, the ones a rule would have applied. */
  wouldApply: Scalars['Int']['output'];
};

export type AutoApplyRule = Node & {
  __typename?: 'AutoApplyRule';
  author: User;
  /** Who set the rule (created or last changed it). Its applies are recorded as theirs, and it acts only while they are an OWNER of the project. */
  authorID: Scalars['ID']['output'];
  createdAt: Scalars['Time']['output'];
  id: Scalars['ID']['output'];
  /** The kinds of suggestion the rule applies. */
  kinds: Array<AdjustmentType>;
  /** The least confidence a suggestion needs to be applied by the rule. */
  minConfidence: Scalars['Float']['output'];
  project: Project;
  projectID: Scalars['ID']['output'];
  updatedAt: Scalars['Time']['output'];
};

export type AutoApplyRuleInput = {
  /**
   * The kinds of suggestion the rule applies: one or more, any but
   * REMOVE_TASK (a removal cannot be reverted).
   */
  kinds: Array<AdjustmentType>;
  /** The least confidence a suggestion needs, from 0 to 1. */
  minConfidence: Scalars['Float']['input'];
};

/** Ordering options for AutoApplyRule connections */
export type AutoApplyRuleOrder = {
  /** The ordering direction. */
  direction?: OrderDirection;
  /** The field by which to order AutoApplyRules. */
  field: AutoApplyRuleOrderField;
};

/** Properties by which AutoApplyRule connections can be ordered. */
export type AutoApplyRuleOrderField =
  | 'CREATED_AT'
  | 'UPDATED_AT';

export type Comment = Node & {
  __typename?: 'Comment';
  adjustment?: Maybe<Adjustment>;
  /** The suggestion commented on; null for a comment on a feedback. */
  adjustmentID?: Maybe<Scalars['ID']['output']>;
  author?: Maybe<User>;
  /** The text, 1 to 5,000 characters; @subject names a member. */
  body: Scalars['String']['output'];
  createdAt: Scalars['Time']['output'];
  /** When the body was last changed; null if never. */
  editedAt?: Maybe<Scalars['Time']['output']>;
  feedback?: Maybe<Feedback>;
  /** The feedback commented on; null for a comment on a suggestion. */
  feedbackID?: Maybe<Scalars['ID']['output']>;
  id: Scalars['ID']['output'];
  /** The project members the body names as @subject when it was written. */
  mentions: Array<User>;
  /** Incremented on every edit; events carry it. */
  version: Scalars['Int']['output'];
};

export type CommentChange =
  | 'CREATED'
  | 'DELETED'
  | 'EDITED';

/** A connection to a list of items. */
export type CommentConnection = {
  __typename?: 'CommentConnection';
  /** A list of edges. */
  edges?: Maybe<Array<Maybe<CommentEdge>>>;
  /** Information to aid in pagination. */
  pageInfo: PageInfo;
  /** Identifies the total count of items in the connection. */
  totalCount: Scalars['Int']['output'];
};

/** An edge in a connection. */
export type CommentEdge = {
  __typename?: 'CommentEdge';
  /** A cursor for use in pagination. */
  cursor: Scalars['Cursor']['output'];
  /** The item at the end of the edge. */
  node?: Maybe<Comment>;
};

/** A comment was written, edited or deleted. */
export type CommentEvent = {
  __typename?: 'CommentEvent';
  at: Scalars['Time']['output'];
  /** Who made the change; null for the system. */
  by?: Maybe<User>;
  change: CommentChange;
  /** The comment after the change (as it was, for DELETED). */
  comment: Comment;
  /** Pass as after to resume after this event. */
  cursor: Scalars['String']['output'];
  /** The comment's version after the change; strictly increasing per comment. */
  version: Scalars['Int']['output'];
};

export type CreateApiKeyInput = {
  /** When the key stops working; must be in the future. */
  expiresAt?: InputMaybe<Scalars['Time']['input']>;
  /** A name to recognise the key by, 1 to 100 characters. */
  name: Scalars['String']['input'];
  /** Limit the key to this project. */
  projectID?: InputMaybe<Scalars['ID']['input']>;
  /** The key's role on projectID (default VIEWER); only with projectID. */
  role?: InputMaybe<Role>;
};

export type CreateApiKeyPayload = {
  __typename?: 'CreateApiKeyPayload';
  apiKey: ApiKey;
  /** The key itself (fl_…). Store it now: it is not shown again. */
  secret: Scalars['String']['output'];
};

export type CreateAutoApplyRuleInput = {
  projectID: Scalars['ID']['input'];
  rule: AutoApplyRuleInput;
};

export type CreateOrganizationInput = {
  name: Scalars['String']['input'];
};

/**
 * CreateProjectInput is used for create Project object.
 * Input was generated by ent.
 */
export type CreateProjectInput = {
  description?: InputMaybe<Scalars['String']['input']>;
  name: Scalars['String']['input'];
  status?: InputMaybe<ProjectStatus>;
  /** Whether VIEWERs may comment on the project's feedback and suggestions; EDITORs and OWNERs always may. Only an OWNER changes it. */
  viewersMayComment?: InputMaybe<Scalars['Boolean']['input']>;
};

/**
 * CreateTaskInput is used for create Task object.
 * Input was generated by ent.
 */
export type CreateTaskInput = {
  description?: InputMaybe<Scalars['String']['input']>;
  estimatedHours?: InputMaybe<Scalars['Float']['input']>;
  priority?: InputMaybe<Scalars['Int']['input']>;
  projectID: Scalars['ID']['input'];
  status?: InputMaybe<TaskStatus>;
  title: Scalars['String']['input'];
};

/**
 * Exactly one of projectID and organizationID: a project's endpoint is sent
 * that project's events (needs OWNER of it); an organisation's endpoint is sent
 * the events of every project of the organisation (needs OWNER or ADMIN of it,
 * not with an API key).
 */
export type CreateWebhookInput = {
  /**
   * The event types to deliver, at least one. SLACK endpoints take
   * ANALYSIS_COMPLETED, ANALYSIS_FAILED and SUGGESTION_APPLIED.
   */
  events: Array<WebhookEventType>;
  kind?: WebhookKind;
  organizationID?: InputMaybe<Scalars['ID']['input']>;
  projectID?: InputMaybe<Scalars['ID']['input']>;
  /** An http or https URL (at most 2,048 characters) on a public address. */
  url: Scalars['String']['input'];
};

export type CreateWebhookPayload = {
  __typename?: 'CreateWebhookPayload';
  /**
   * The signing secret (whsec_ and base64), shown only here. Verify each
   * delivery's webhook-signature with it (see the API guide). Null for SLACK
   * endpoints, which are not signed.
   */
  secret?: Maybe<Scalars['String']['output']>;
  webhook: Webhook;
};

/**
 * Percentiles (continuous, interpolated) of cycle times: from a task's first
 * move to IN_PROGRESS (or its creation, if it never was IN_PROGRESS before) to
 * its move to DONE, in hours.
 */
export type CycleTimeStats = {
  __typename?: 'CycleTimeStats';
  /** How many completions the percentiles are over. */
  count: Scalars['Int']['output'];
  /** Median in hours; null when count is 0. */
  p50Hours?: Maybe<Scalars['Float']['output']>;
  /** 95th percentile in hours; null when count is 0. */
  p95Hours?: Maybe<Scalars['Float']['output']>;
};

/** DigestFrequency is enum for the field digest */
export type DigestFrequency =
  | 'DAILY'
  | 'NONE'
  | 'WEEKLY';

/** The caller's digest of a project (setDigest). */
export type DigestSetting = {
  __typename?: 'DigestSetting';
  /** Where the digests go, shown to the member alone; null: no digest is sent. */
  email?: Maybe<Scalars['String']['output']>;
  frequency: DigestFrequency;
  member: ProjectMember;
  /**
   * Whether this server sends digests (its SMTP_URL is set). When false the
   * choice is kept, and digests start once the server sends them.
   */
  sending: Scalars['Boolean']['output'];
};

export type FailureReason = {
  __typename?: 'FailureReason';
  count: Scalars['Int']['output'];
  /** The error text (runs of whitespace counted as one space); null for failures stored without one. */
  reason?: Maybe<Scalars['String']['output']>;
};

export type FailureStats = {
  __typename?: 'FailureStats';
  /** FAILED feedback. */
  failed: Scalars['Int']['output'];
  /** Finished feedback: COMPLETED or FAILED. */
  finished: Scalars['Int']['output'];
  /** failed / finished, from 0 to 1; null when nothing finished. */
  rate?: Maybe<Scalars['Float']['output']>;
  /** The 5 most frequent reasons, most frequent first. */
  topReasons: Array<FailureReason>;
};

export type Feedback = Node & {
  __typename?: 'Feedback';
  adjustments: Array<Adjustment>;
  analyses: Array<Analysis>;
  /** How many times a worker has started processing this feedback. */
  attempts: Scalars['Int']['output'];
  comments: CommentConnection;
  createdAt: Scalars['Time']['output'];
  /** Why they were left out (at most 10). */
  droppedReasons?: Maybe<Array<Scalars['String']['output']>>;
  /** Suggestions of the model's answer left out: invalid, or about a task deleted before the analysis was stored. */
  droppedSuggestions: Scalars['Int']['output'];
  /** Why the analysis failed, in words fit for the user. */
  error?: Maybe<Scalars['String']['output']>;
  /** What the feedback's analyses are estimated to have cost by the price table (LLM_PRICES) when each was stored, in its currency (LLM_PRICE_CURRENCY); null when no analysis of it had a price and tokens. */
  estimatedCost?: Maybe<Scalars['Float']['output']>;
  /** Why a fallback provider produced the result instead of the first configured one (LLM_FALLBACK). */
  fallbackReason?: Maybe<Scalars['String']['output']>;
  feedbackText: Scalars['String']['output'];
  id: Scalars['ID']['output'];
  /** Input (prompt) tokens of the feedback's analyses, as the provider reported them: every model call, repairs included, and a failed analysis's added to its retry's; null when none was reported. 0 for the built-in rules. */
  inputTokens?: Maybe<Scalars['Int']['output']>;
  model?: Maybe<Scalars['String']['output']>;
  /** Output (completion) tokens of the feedback's analyses, counted as inputTokens are; null when none was reported. */
  outputTokens?: Maybe<Scalars['Int']['output']>;
  processedAt?: Maybe<Scalars['Time']['output']>;
  project: Project;
  projectID: Scalars['ID']['output'];
  /** The analyzer that produced the result (openai, anthropic, ollama, googleai or builtin). */
  provider?: Maybe<Scalars['String']['output']>;
  /** The feedback whose analysis this one reuses instead of a new one (the original analysis); null when it was analysed itself. */
  reusedFrom?: Maybe<Feedback>;
  /**
   * The feedback of the same project nearest to this one, most similar first
   * (then newest), this one left out; first is at most 50. By TEXT (the
   * default): PostgreSQL's pg_trgm trigrams of the normalised texts (case,
   * white space and punctuation do not count), at least 0.3 (pg_trgm's
   * similarity threshold). By MEANING: the cosine similarity of the texts'
   * embeddings, among feedback analysed while the service embeds texts
   * (FEEDBACK_REUSE_SEMANTIC); empty for feedback without an embedding.
   */
  similar: Array<SimilarFeedback>;
  status: FeedbackStatus;
  submittedBy?: Maybe<User>;
  /** The authenticated user who submitted the feedback. */
  submittedByID?: Maybe<Scalars['ID']['output']>;
  summary?: Maybe<Scalars['String']['output']>;
  task?: Maybe<Task>;
  taskID?: Maybe<Scalars['ID']['output']>;
  updatedAt: Scalars['Time']['output'];
  userName?: Maybe<Scalars['String']['output']>;
  /** Incremented on every status change; events carry it so clients can order and de-duplicate them. */
  version: Scalars['Int']['output'];
};


export type FeedbackAdjustmentsArgs = {
  where?: InputMaybe<AdjustmentWhereInput>;
};


export type FeedbackCommentsArgs = {
  after?: InputMaybe<Scalars['Cursor']['input']>;
  before?: InputMaybe<Scalars['Cursor']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  last?: InputMaybe<Scalars['Int']['input']>;
};


export type FeedbackSimilarArgs = {
  by?: Similarity;
  first?: Scalars['Int']['input'];
};

/** A connection to a list of items. */
export type FeedbackConnection = {
  __typename?: 'FeedbackConnection';
  /** A list of edges. */
  edges?: Maybe<Array<Maybe<FeedbackEdge>>>;
  /** Information to aid in pagination. */
  pageInfo: PageInfo;
  /** Identifies the total count of items in the connection. */
  totalCount: Scalars['Int']['output'];
};

export type FeedbackDayCount = {
  __typename?: 'FeedbackDayCount';
  /** Of these, how many are COMPLETED now. */
  completed: Scalars['Int']['output'];
  /** Feedback created that day. */
  count: Scalars['Int']['output'];
  /** The day, YYYY-MM-DD, in UTC. */
  date: Scalars['String']['output'];
  /** Of these, how many are FAILED now. */
  failed: Scalars['Int']['output'];
  /** Of these, how many are PENDING now. */
  pending: Scalars['Int']['output'];
  /** Of these, how many are PROCESSING now. */
  processing: Scalars['Int']['output'];
};

/** An edge in a connection. */
export type FeedbackEdge = {
  __typename?: 'FeedbackEdge';
  /** A cursor for use in pagination. */
  cursor: Scalars['Cursor']['output'];
  /** The item at the end of the edge. */
  node?: Maybe<Feedback>;
};

/** Ordering options for Feedback connections */
export type FeedbackOrder = {
  /** The ordering direction. */
  direction?: OrderDirection;
  /** The field by which to order Feedbacks. */
  field: FeedbackOrderField;
};

/** Properties by which Feedback connections can be ordered. */
export type FeedbackOrderField =
  | 'CREATED_AT'
  | 'STATUS'
  | 'UPDATED_AT';

/** FeedbackStatus is enum for the field status */
export type FeedbackStatus =
  | 'COMPLETED'
  | 'FAILED'
  | 'PENDING'
  | 'PROCESSING';

export type FeedbackStatusCount = {
  __typename?: 'FeedbackStatusCount';
  count: Scalars['Int']['output'];
  status: FeedbackStatus;
};

/** A feedback's status at one point of its life. */
export type FeedbackStatusEvent = {
  __typename?: 'FeedbackStatusEvent';
  at: Scalars['Time']['output'];
  /** Who caused the change (submitted or retried it); null for the system. */
  by?: Maybe<User>;
  /**
   * Pass as after to resume after this event. For a state read from the
   * database (feedbackStatusChanged's first event), the position of the newest
   * event at that moment.
   */
  cursor: Scalars['String']['output'];
  /** Why the analysis failed, when status is FAILED. */
  error?: Maybe<Scalars['String']['output']>;
  /** The feedback as it is now (select adjustments here once COMPLETED). */
  feedback: Feedback;
  /** The status before this change; null for the first event of feedbackStatusChanged and after a resynchronisation. */
  previousStatus?: Maybe<FeedbackStatus>;
  status: FeedbackStatus;
  /** The feedback's version after this change; strictly increasing per feedback. */
  version: Scalars['Int']['output'];
};

/** A group of similar feedback (see ProjectInsights.themes). */
export type FeedbackTheme = {
  __typename?: 'FeedbackTheme';
  /** How many feedback of the window's newest 500 are in the group. */
  count: Scalars['Int']['output'];
  /** The feedback whose text names the theme; null if it is gone. */
  example?: Maybe<Feedback>;
  /** The text of the group's most central feedback (similar to the most others of the group; the earliest on a tie). */
  text: Scalars['String']['output'];
};

/**
 * FeedbackWhereInput is used for filtering Feedback objects.
 * Input was generated by ent.
 */
export type FeedbackWhereInput = {
  and?: InputMaybe<Array<FeedbackWhereInput>>;
  /** attempts field predicates */
  attempts?: InputMaybe<Scalars['Int']['input']>;
  attemptsGT?: InputMaybe<Scalars['Int']['input']>;
  attemptsGTE?: InputMaybe<Scalars['Int']['input']>;
  attemptsIn?: InputMaybe<Array<Scalars['Int']['input']>>;
  attemptsLT?: InputMaybe<Scalars['Int']['input']>;
  attemptsLTE?: InputMaybe<Scalars['Int']['input']>;
  attemptsNEQ?: InputMaybe<Scalars['Int']['input']>;
  attemptsNotIn?: InputMaybe<Array<Scalars['Int']['input']>>;
  /** created_at field predicates */
  createdAt?: InputMaybe<Scalars['Time']['input']>;
  createdAtGT?: InputMaybe<Scalars['Time']['input']>;
  createdAtGTE?: InputMaybe<Scalars['Time']['input']>;
  createdAtIn?: InputMaybe<Array<Scalars['Time']['input']>>;
  createdAtLT?: InputMaybe<Scalars['Time']['input']>;
  createdAtLTE?: InputMaybe<Scalars['Time']['input']>;
  createdAtNEQ?: InputMaybe<Scalars['Time']['input']>;
  createdAtNotIn?: InputMaybe<Array<Scalars['Time']['input']>>;
  /** dropped_suggestions field predicates */
  droppedSuggestions?: InputMaybe<Scalars['Int']['input']>;
  droppedSuggestionsGT?: InputMaybe<Scalars['Int']['input']>;
  droppedSuggestionsGTE?: InputMaybe<Scalars['Int']['input']>;
  droppedSuggestionsIn?: InputMaybe<Array<Scalars['Int']['input']>>;
  droppedSuggestionsLT?: InputMaybe<Scalars['Int']['input']>;
  droppedSuggestionsLTE?: InputMaybe<Scalars['Int']['input']>;
  droppedSuggestionsNEQ?: InputMaybe<Scalars['Int']['input']>;
  droppedSuggestionsNotIn?: InputMaybe<Array<Scalars['Int']['input']>>;
  /** error field predicates */
  error?: InputMaybe<Scalars['String']['input']>;
  errorContains?: InputMaybe<Scalars['String']['input']>;
  errorContainsFold?: InputMaybe<Scalars['String']['input']>;
  errorEqualFold?: InputMaybe<Scalars['String']['input']>;
  errorGT?: InputMaybe<Scalars['String']['input']>;
  errorGTE?: InputMaybe<Scalars['String']['input']>;
  errorHasPrefix?: InputMaybe<Scalars['String']['input']>;
  errorHasSuffix?: InputMaybe<Scalars['String']['input']>;
  errorIn?: InputMaybe<Array<Scalars['String']['input']>>;
  errorIsNil?: InputMaybe<Scalars['Boolean']['input']>;
  errorLT?: InputMaybe<Scalars['String']['input']>;
  errorLTE?: InputMaybe<Scalars['String']['input']>;
  errorNEQ?: InputMaybe<Scalars['String']['input']>;
  errorNotIn?: InputMaybe<Array<Scalars['String']['input']>>;
  errorNotNil?: InputMaybe<Scalars['Boolean']['input']>;
  /** estimated_cost field predicates */
  estimatedCost?: InputMaybe<Scalars['Float']['input']>;
  estimatedCostGT?: InputMaybe<Scalars['Float']['input']>;
  estimatedCostGTE?: InputMaybe<Scalars['Float']['input']>;
  estimatedCostIn?: InputMaybe<Array<Scalars['Float']['input']>>;
  estimatedCostIsNil?: InputMaybe<Scalars['Boolean']['input']>;
  estimatedCostLT?: InputMaybe<Scalars['Float']['input']>;
  estimatedCostLTE?: InputMaybe<Scalars['Float']['input']>;
  estimatedCostNEQ?: InputMaybe<Scalars['Float']['input']>;
  estimatedCostNotIn?: InputMaybe<Array<Scalars['Float']['input']>>;
  estimatedCostNotNil?: InputMaybe<Scalars['Boolean']['input']>;
  /** fallback_reason field predicates */
  fallbackReason?: InputMaybe<Scalars['String']['input']>;
  fallbackReasonContains?: InputMaybe<Scalars['String']['input']>;
  fallbackReasonContainsFold?: InputMaybe<Scalars['String']['input']>;
  fallbackReasonEqualFold?: InputMaybe<Scalars['String']['input']>;
  fallbackReasonGT?: InputMaybe<Scalars['String']['input']>;
  fallbackReasonGTE?: InputMaybe<Scalars['String']['input']>;
  fallbackReasonHasPrefix?: InputMaybe<Scalars['String']['input']>;
  fallbackReasonHasSuffix?: InputMaybe<Scalars['String']['input']>;
  fallbackReasonIn?: InputMaybe<Array<Scalars['String']['input']>>;
  fallbackReasonIsNil?: InputMaybe<Scalars['Boolean']['input']>;
  fallbackReasonLT?: InputMaybe<Scalars['String']['input']>;
  fallbackReasonLTE?: InputMaybe<Scalars['String']['input']>;
  fallbackReasonNEQ?: InputMaybe<Scalars['String']['input']>;
  fallbackReasonNotIn?: InputMaybe<Array<Scalars['String']['input']>>;
  fallbackReasonNotNil?: InputMaybe<Scalars['Boolean']['input']>;
  /** feedback_text field predicates */
  feedbackText?: InputMaybe<Scalars['String']['input']>;
  feedbackTextContains?: InputMaybe<Scalars['String']['input']>;
  feedbackTextContainsFold?: InputMaybe<Scalars['String']['input']>;
  feedbackTextEqualFold?: InputMaybe<Scalars['String']['input']>;
  feedbackTextGT?: InputMaybe<Scalars['String']['input']>;
  feedbackTextGTE?: InputMaybe<Scalars['String']['input']>;
  feedbackTextHasPrefix?: InputMaybe<Scalars['String']['input']>;
  feedbackTextHasSuffix?: InputMaybe<Scalars['String']['input']>;
  feedbackTextIn?: InputMaybe<Array<Scalars['String']['input']>>;
  feedbackTextLT?: InputMaybe<Scalars['String']['input']>;
  feedbackTextLTE?: InputMaybe<Scalars['String']['input']>;
  feedbackTextNEQ?: InputMaybe<Scalars['String']['input']>;
  feedbackTextNotIn?: InputMaybe<Array<Scalars['String']['input']>>;
  /** adjustments edge predicates */
  hasAdjustments?: InputMaybe<Scalars['Boolean']['input']>;
  hasAdjustmentsWith?: InputMaybe<Array<AdjustmentWhereInput>>;
  /** project edge predicates */
  hasProject?: InputMaybe<Scalars['Boolean']['input']>;
  hasProjectWith?: InputMaybe<Array<ProjectWhereInput>>;
  /** task edge predicates */
  hasTask?: InputMaybe<Scalars['Boolean']['input']>;
  hasTaskWith?: InputMaybe<Array<TaskWhereInput>>;
  /** id field predicates */
  id?: InputMaybe<Scalars['ID']['input']>;
  idGT?: InputMaybe<Scalars['ID']['input']>;
  idGTE?: InputMaybe<Scalars['ID']['input']>;
  idIn?: InputMaybe<Array<Scalars['ID']['input']>>;
  idLT?: InputMaybe<Scalars['ID']['input']>;
  idLTE?: InputMaybe<Scalars['ID']['input']>;
  idNEQ?: InputMaybe<Scalars['ID']['input']>;
  idNotIn?: InputMaybe<Array<Scalars['ID']['input']>>;
  /** input_tokens field predicates */
  inputTokens?: InputMaybe<Scalars['Int']['input']>;
  inputTokensGT?: InputMaybe<Scalars['Int']['input']>;
  inputTokensGTE?: InputMaybe<Scalars['Int']['input']>;
  inputTokensIn?: InputMaybe<Array<Scalars['Int']['input']>>;
  inputTokensIsNil?: InputMaybe<Scalars['Boolean']['input']>;
  inputTokensLT?: InputMaybe<Scalars['Int']['input']>;
  inputTokensLTE?: InputMaybe<Scalars['Int']['input']>;
  inputTokensNEQ?: InputMaybe<Scalars['Int']['input']>;
  inputTokensNotIn?: InputMaybe<Array<Scalars['Int']['input']>>;
  inputTokensNotNil?: InputMaybe<Scalars['Boolean']['input']>;
  /** model field predicates */
  model?: InputMaybe<Scalars['String']['input']>;
  modelContains?: InputMaybe<Scalars['String']['input']>;
  modelContainsFold?: InputMaybe<Scalars['String']['input']>;
  modelEqualFold?: InputMaybe<Scalars['String']['input']>;
  modelGT?: InputMaybe<Scalars['String']['input']>;
  modelGTE?: InputMaybe<Scalars['String']['input']>;
  modelHasPrefix?: InputMaybe<Scalars['String']['input']>;
  modelHasSuffix?: InputMaybe<Scalars['String']['input']>;
  modelIn?: InputMaybe<Array<Scalars['String']['input']>>;
  modelIsNil?: InputMaybe<Scalars['Boolean']['input']>;
  modelLT?: InputMaybe<Scalars['String']['input']>;
  modelLTE?: InputMaybe<Scalars['String']['input']>;
  modelNEQ?: InputMaybe<Scalars['String']['input']>;
  modelNotIn?: InputMaybe<Array<Scalars['String']['input']>>;
  modelNotNil?: InputMaybe<Scalars['Boolean']['input']>;
  not?: InputMaybe<FeedbackWhereInput>;
  or?: InputMaybe<Array<FeedbackWhereInput>>;
  /** output_tokens field predicates */
  outputTokens?: InputMaybe<Scalars['Int']['input']>;
  outputTokensGT?: InputMaybe<Scalars['Int']['input']>;
  outputTokensGTE?: InputMaybe<Scalars['Int']['input']>;
  outputTokensIn?: InputMaybe<Array<Scalars['Int']['input']>>;
  outputTokensIsNil?: InputMaybe<Scalars['Boolean']['input']>;
  outputTokensLT?: InputMaybe<Scalars['Int']['input']>;
  outputTokensLTE?: InputMaybe<Scalars['Int']['input']>;
  outputTokensNEQ?: InputMaybe<Scalars['Int']['input']>;
  outputTokensNotIn?: InputMaybe<Array<Scalars['Int']['input']>>;
  outputTokensNotNil?: InputMaybe<Scalars['Boolean']['input']>;
  /** processed_at field predicates */
  processedAt?: InputMaybe<Scalars['Time']['input']>;
  processedAtGT?: InputMaybe<Scalars['Time']['input']>;
  processedAtGTE?: InputMaybe<Scalars['Time']['input']>;
  processedAtIn?: InputMaybe<Array<Scalars['Time']['input']>>;
  processedAtIsNil?: InputMaybe<Scalars['Boolean']['input']>;
  processedAtLT?: InputMaybe<Scalars['Time']['input']>;
  processedAtLTE?: InputMaybe<Scalars['Time']['input']>;
  processedAtNEQ?: InputMaybe<Scalars['Time']['input']>;
  processedAtNotIn?: InputMaybe<Array<Scalars['Time']['input']>>;
  processedAtNotNil?: InputMaybe<Scalars['Boolean']['input']>;
  /** project_id field predicates */
  projectID?: InputMaybe<Scalars['ID']['input']>;
  projectIDIn?: InputMaybe<Array<Scalars['ID']['input']>>;
  projectIDNEQ?: InputMaybe<Scalars['ID']['input']>;
  projectIDNotIn?: InputMaybe<Array<Scalars['ID']['input']>>;
  /** provider field predicates */
  provider?: InputMaybe<Scalars['String']['input']>;
  providerContains?: InputMaybe<Scalars['String']['input']>;
  providerContainsFold?: InputMaybe<Scalars['String']['input']>;
  providerEqualFold?: InputMaybe<Scalars['String']['input']>;
  providerGT?: InputMaybe<Scalars['String']['input']>;
  providerGTE?: InputMaybe<Scalars['String']['input']>;
  providerHasPrefix?: InputMaybe<Scalars['String']['input']>;
  providerHasSuffix?: InputMaybe<Scalars['String']['input']>;
  providerIn?: InputMaybe<Array<Scalars['String']['input']>>;
  providerIsNil?: InputMaybe<Scalars['Boolean']['input']>;
  providerLT?: InputMaybe<Scalars['String']['input']>;
  providerLTE?: InputMaybe<Scalars['String']['input']>;
  providerNEQ?: InputMaybe<Scalars['String']['input']>;
  providerNotIn?: InputMaybe<Array<Scalars['String']['input']>>;
  providerNotNil?: InputMaybe<Scalars['Boolean']['input']>;
  /** status field predicates */
  status?: InputMaybe<FeedbackStatus>;
  statusIn?: InputMaybe<Array<FeedbackStatus>>;
  statusNEQ?: InputMaybe<FeedbackStatus>;
  statusNotIn?: InputMaybe<Array<FeedbackStatus>>;
  /** submitted_by_id field predicates */
  submittedByID?: InputMaybe<Scalars['ID']['input']>;
  submittedByIDIn?: InputMaybe<Array<Scalars['ID']['input']>>;
  submittedByIDIsNil?: InputMaybe<Scalars['Boolean']['input']>;
  submittedByIDNEQ?: InputMaybe<Scalars['ID']['input']>;
  submittedByIDNotIn?: InputMaybe<Array<Scalars['ID']['input']>>;
  submittedByIDNotNil?: InputMaybe<Scalars['Boolean']['input']>;
  /** summary field predicates */
  summary?: InputMaybe<Scalars['String']['input']>;
  summaryContains?: InputMaybe<Scalars['String']['input']>;
  summaryContainsFold?: InputMaybe<Scalars['String']['input']>;
  summaryEqualFold?: InputMaybe<Scalars['String']['input']>;
  summaryGT?: InputMaybe<Scalars['String']['input']>;
  summaryGTE?: InputMaybe<Scalars['String']['input']>;
  summaryHasPrefix?: InputMaybe<Scalars['String']['input']>;
  summaryHasSuffix?: InputMaybe<Scalars['String']['input']>;
  summaryIn?: InputMaybe<Array<Scalars['String']['input']>>;
  summaryIsNil?: InputMaybe<Scalars['Boolean']['input']>;
  summaryLT?: InputMaybe<Scalars['String']['input']>;
  summaryLTE?: InputMaybe<Scalars['String']['input']>;
  summaryNEQ?: InputMaybe<Scalars['String']['input']>;
  summaryNotIn?: InputMaybe<Array<Scalars['String']['input']>>;
  summaryNotNil?: InputMaybe<Scalars['Boolean']['input']>;
  /** task_id field predicates */
  taskID?: InputMaybe<Scalars['ID']['input']>;
  taskIDIn?: InputMaybe<Array<Scalars['ID']['input']>>;
  taskIDIsNil?: InputMaybe<Scalars['Boolean']['input']>;
  taskIDNEQ?: InputMaybe<Scalars['ID']['input']>;
  taskIDNotIn?: InputMaybe<Array<Scalars['ID']['input']>>;
  taskIDNotNil?: InputMaybe<Scalars['Boolean']['input']>;
  /** updated_at field predicates */
  updatedAt?: InputMaybe<Scalars['Time']['input']>;
  updatedAtGT?: InputMaybe<Scalars['Time']['input']>;
  updatedAtGTE?: InputMaybe<Scalars['Time']['input']>;
  updatedAtIn?: InputMaybe<Array<Scalars['Time']['input']>>;
  updatedAtLT?: InputMaybe<Scalars['Time']['input']>;
  updatedAtLTE?: InputMaybe<Scalars['Time']['input']>;
  updatedAtNEQ?: InputMaybe<Scalars['Time']['input']>;
  updatedAtNotIn?: InputMaybe<Array<Scalars['Time']['input']>>;
  /** user_name field predicates */
  userName?: InputMaybe<Scalars['String']['input']>;
  userNameContains?: InputMaybe<Scalars['String']['input']>;
  userNameContainsFold?: InputMaybe<Scalars['String']['input']>;
  userNameEqualFold?: InputMaybe<Scalars['String']['input']>;
  userNameGT?: InputMaybe<Scalars['String']['input']>;
  userNameGTE?: InputMaybe<Scalars['String']['input']>;
  userNameHasPrefix?: InputMaybe<Scalars['String']['input']>;
  userNameHasSuffix?: InputMaybe<Scalars['String']['input']>;
  userNameIn?: InputMaybe<Array<Scalars['String']['input']>>;
  userNameIsNil?: InputMaybe<Scalars['Boolean']['input']>;
  userNameLT?: InputMaybe<Scalars['String']['input']>;
  userNameLTE?: InputMaybe<Scalars['String']['input']>;
  userNameNEQ?: InputMaybe<Scalars['String']['input']>;
  userNameNotIn?: InputMaybe<Array<Scalars['String']['input']>>;
  userNameNotNil?: InputMaybe<Scalars['Boolean']['input']>;
  /** version field predicates */
  version?: InputMaybe<Scalars['Int']['input']>;
  versionGT?: InputMaybe<Scalars['Int']['input']>;
  versionGTE?: InputMaybe<Scalars['Int']['input']>;
  versionIn?: InputMaybe<Array<Scalars['Int']['input']>>;
  versionLT?: InputMaybe<Scalars['Int']['input']>;
  versionLTE?: InputMaybe<Scalars['Int']['input']>;
  versionNEQ?: InputMaybe<Scalars['Int']['input']>;
  versionNotIn?: InputMaybe<Array<Scalars['Int']['input']>>;
};

export type GitHubRepository = Node & {
  __typename?: 'GitHubRepository';
  id: Scalars['ID']['output'];
  linkedAt: Scalars['Time']['output'];
  owner: Scalars['String']['output'];
  repo: Scalars['String']['output'];
};

export type LinkGitHubRepositoryInput = {
  /** The repository's owner, a user or organisation login (at most 39 characters). */
  owner: Scalars['String']['input'];
  projectID: Scalars['ID']['input'];
  /** The repository's name (letters, digits, '.', '-' and '_'; at most 100 characters). */
  repo: Scalars['String']['input'];
  /**
   * A token that may create issues in the repository (a fine-grained token
   * with Issues: write, or a classic one with repo scope); at most 255
   * characters.
   */
  token: Scalars['String']['input'];
  /**
   * The secret GitHub signs the repository's webhook deliveries with (16 to
   * 255 characters). Omitted: one is generated and returned once.
   */
  webhookSecret?: InputMaybe<Scalars['String']['input']>;
};

export type LinkGitHubRepositoryPayload = {
  __typename?: 'LinkGitHubRepositoryPayload';
  repository: GitHubRepository;
  /** The generated webhook secret, shown only here; null when one was given. */
  webhookSecret?: Maybe<Scalars['String']['output']>;
};

/** What one provider and model analysed in the window. */
export type ModelStats = {
  __typename?: 'ModelStats';
  /**
   * Its analyses in the window (created in it), primary and comparison runs
   * apart: how many, how long the model took, what they cost. Put side by
   * side with suggestions' acceptance (primary analyses only: comparison
   * runs' suggestions are never decided on).
   */
  analyses: AnalysisRunStats;
  /** COMPLETED feedback it analysed (failed analyses record no model). */
  completed: Scalars['Int']['output'];
  model?: Maybe<Scalars['String']['output']>;
  processingTime: ProcessingTimeStats;
  /** The analyzer (openai, anthropic, ollama, googleai or builtin); null if not recorded. */
  provider?: Maybe<Scalars['String']['output']>;
  spend: SpendStats;
  suggestions: SuggestionStats;
};

export type Mutation = {
  __typename?: 'Mutation';
  /**
   * Comment on a feedback or a suggestion (targetID is the ID of a Feedback or
   * of an Adjustment). Any member may, but a VIEWER only while the project's
   * viewersMayComment is on. @subject in the body mentions the project member
   * of that subject (see Comment.mentions); other @words stay text. Counts
   * toward COMMENT_LIMIT_PER_MINUTE.
   */
  addComment: Comment;
  /**
   * Give a person (by subject and issuer, as addProjectMember) a role in an
   * organisation. Needs OWNER or ADMIN of it; only an OWNER grants OWNER. At
   * most 1000 members per organisation.
   */
  addOrganizationMember: OrganizationMember;
  /**
   * Give a person (by the subject and issuer of their tokens: the JWT sub and
   * iss) a role in a project. Needs OWNER. The person need not have signed in
   * yet.
   */
  addProjectMember: ProjectMember;
  /**
   * Apply a suggestion to the plan, in one transaction: TASK_PRIORITY,
   * TASK_STATUS, TASK_DESCRIPTION and TASK_ESTIMATE set that field of the task;
   * NEW_TASK creates the task; REMOVE_TASK deletes it (removedTask keeps a
   * snapshot); GENERAL is acknowledged. If the task no longer holds the
   * suggestion's originalValue (someone changed it since the analysis), the
   * apply fails with CONFLICT naming the current value, unless force is true.
   * Needs EDITOR.
   */
  applyAdjustment: AdjustmentDecisionPayload;
  /** Apply several suggestions, in order, all or none, in one transaction. */
  applyAdjustments: Array<AdjustmentDecisionPayload>;
  /**
   * Analyse the feedback again with other configured models, for comparison:
   * each entry names a provider (its first configured model) or
   * provider:model among LLM_PROVIDER, LLM_FALLBACK and COMPARE_PROVIDERS (at
   * most 5 entries; repeats count once; unknown ones are BAD_USER_INPUT, all
   * named). Needs EDITOR. Each run is stored PENDING, as an Analysis of the
   * feedback next to its primary one, and run by a worker (LOW priority, the
   * provider's limits and the project's budget apply); its suggestions are
   * claims to compare, never applied. A feedback keeps at most 20 comparison
   * runs. Returns the new runs.
   */
  compareAnalyses: Array<Analysis>;
  /**
   * Create an API key for servers and scripts. The secret is returned once,
   * here, and never again: only a hash of it is stored. Without projectID the
   * key acts as you; with projectID it acts on that project only, with role
   * (default VIEWER, at most your own role there).
   */
  createApiKey: CreateApiKeyPayload;
  /**
   * Add a rule to the project's auto-apply policy: from then on, as soon as an
   * analysis completes, its PROPOSED suggestions of the rule's kinds with at
   * least minConfidence are applied by the system, as applyAdjustment applies
   * them without force (one whose task changed since is left PROPOSED),
   * recorded as decided by the rule's author with autoApplyRule naming the
   * rule, announced on projectEvents, and revertable. A project has no rules
   * (the policy is off) until an OWNER adds one, and at most 10. Needs OWNER.
   */
  createAutoApplyRule: AutoApplyRule;
  /**
   * Create an organisation; you become its OWNER. Name: 1 to 255 characters.
   * A person belongs to at most 100 organisations.
   */
  createOrganization: Organization;
  /**
   * Create a project. The name is trimmed and must be 1 to 255 characters.
   * The project belongs to organizationID (you must be its OWNER or ADMIN), by
   * default to your personal organisation (made on first use).
   */
  createProject: Project;
  /** Create a task in the project named by input.projectID. */
  createTask: Task;
  /**
   * Register an endpoint that the project's events are delivered to, from the
   * worker, with retries for a day. Needs OWNER. A STANDARD endpoint gets
   * JSON bodies signed as the Standard Webhooks specification says: the
   * signing secret is returned once, here, and never again. A SLACK endpoint
   * is a Slack incoming-webhook URL, posted Block Kit messages. A project, and
   * an organisation (its own endpoints, input.organizationID), each have at
   * most WEBHOOKS_PER_PROJECT endpoints (default 10).
   */
  createWebhook: CreateWebhookPayload;
  /** Delete a rule; what it applied stays applied. Needs OWNER. Returns the deleted ID. */
  deleteAutoApplyRule: Scalars['ID']['output'];
  /** Delete a comment: your own, or any as an OWNER. Returns the deleted ID. */
  deleteComment: Scalars['ID']['output'];
  /**
   * Delete an organisation with its memberships and its own webhooks. Needs
   * OWNER of it; not with an API key. Refused (CONFLICT) while it owns
   * projects: delete them first. A personal organisation is never deleted.
   * Returns the deleted ID.
   */
  deleteOrganization: Scalars['ID']['output'];
  /** Delete a project with its tasks, feedback and adjustments. Returns the deleted ID. */
  deleteProject: Scalars['ID']['output'];
  /** Delete a task. Feedback and adjustments that referred to it keep existing without it. */
  deleteTask: Scalars['ID']['output'];
  /** Delete an endpoint with its deliveries. Needs OWNER. Returns the deleted ID. */
  deleteWebhook: Scalars['ID']['output'];
  /**
   * Change the body of one of your own comments (mentions are read again) and
   * set editedAt. Counts toward COMMENT_LIMIT_PER_MINUTE.
   */
  editComment: Comment;
  /**
   * Link a GitHub repository to the project (replacing any linked before).
   * Needs OWNER. From then on, each NEW_TASK suggestion applied opens an issue
   * there, from the worker (the task's githubIssueNumber and githubIssueURL
   * show it once GitHub answered), and closing such an issue marks its task
   * DONE: point a GitHub webhook (content type application/json, the issues
   * event) at /integrations/github/webhook with the webhook secret. The token
   * and the secret are stored encrypted and never shown again.
   */
  linkGitHubRepository: LinkGitHubRepositoryPayload;
  /**
   * Deliver a delivery's message again, now, with the same webhook-id (so
   * receivers can drop a duplicate), and retry it for another day if it
   * fails. Needs OWNER.
   */
  redeliverWebhook: WebhookDelivery;
  /** Reject a proposed suggestion, optionally saying why (at most 1,000 characters). Needs EDITOR. */
  rejectAdjustment: AdjustmentDecisionPayload;
  /** Remove an organisation member. As updateOrganizationMember. Returns the removed ID. */
  removeOrganizationMember: Scalars['ID']['output'];
  /** Remove a member. Needs OWNER; a project keeps at least one OWNER. Returns the removed ID. */
  removeProjectMember: Scalars['ID']['output'];
  /** Put FAILED feedback back to PENDING and analyse it again. */
  retryFeedback: Feedback;
  /**
   * Undo an applied suggestion: restore the field it changed, or delete the task
   * it created, when the task still holds what the apply left (otherwise
   * CONFLICT). The suggestion is PROPOSED again. Needs EDITOR.
   */
  revertAdjustment: AdjustmentDecisionPayload;
  /** Revoke one of your API keys; requests with it get UNAUTHENTICATED from now on. */
  revokeApiKey: ApiKey;
  /**
   * Choose the caller's own email digest of a project: NONE, DAILY or WEEKLY.
   * A digest lists what happened in the project since the last one (new
   * feedback, analyses completed or failed, decisions on suggestions) and the
   * suggestions still open; a period with none of these sends nothing. Any
   * member sets their own, in any role, with their own credentials (not an
   * API key); nobody sets another member's, OWNERs included. Digests go to
   * email, which is kept with the choice: omit it to keep the stored one, ""
   * to forget it. A member without an address gets no digest. The first
   * digest covers the time from this choice on.
   */
  setDigest: DigestSetting;
  /**
   * Submit feedback on a project (optionally on one of its tasks). It is stored
   * as PENDING and analysed in the background; follow it with the
   * feedbackStatusChanged subscription.
   */
  submitFeedback: Feedback;
  /**
   * Unlink the project's GitHub repository: no more issues are opened, and
   * its webhooks are refused. Needs OWNER. Returns the project's ID.
   */
  unlinkGitHubRepository: Scalars['ID']['output'];
  /**
   * Change a rule's kinds and threshold; the one who changes it becomes its
   * author. Needs OWNER.
   */
  updateAutoApplyRule: AutoApplyRule;
  /** Rename an organisation (1 to 255 characters, trimmed). Needs OWNER or ADMIN of it; not with an API key. */
  updateOrganization: Organization;
  /** Change a member's organisation role. Needs OWNER or ADMIN; only an OWNER changes an OWNER or grants OWNER; an organisation keeps at least one OWNER. */
  updateOrganizationMember: OrganizationMember;
  /** Change a project's fields; omitted fields keep their values. */
  updateProject: Project;
  /** Change a member's role. Needs OWNER; a project keeps at least one OWNER. */
  updateProjectMember: ProjectMember;
  /** Change a task's fields; omitted fields keep their values. */
  updateTask: Task;
  /**
   * Change an endpoint's URL, events or whether it is enabled. Enabling an
   * endpoint the service disabled clears its disabledReason. Needs OWNER.
   */
  updateWebhook: Webhook;
  /**
   * Vote on a suggestion: UP or DOWN replaces your earlier vote, NONE
   * withdraws it. Any member may vote, once per suggestion, whatever its
   * status. Returns the suggestion with its new score.
   */
  voteAdjustment: Adjustment;
};


export type MutationAddCommentArgs = {
  input: AddCommentInput;
};


export type MutationAddOrganizationMemberArgs = {
  input: AddOrganizationMemberInput;
};


export type MutationAddProjectMemberArgs = {
  input: AddProjectMemberInput;
};


export type MutationApplyAdjustmentArgs = {
  force?: InputMaybe<Scalars['Boolean']['input']>;
  id: Scalars['ID']['input'];
};


export type MutationApplyAdjustmentsArgs = {
  force?: InputMaybe<Scalars['Boolean']['input']>;
  ids: Array<Scalars['ID']['input']>;
};


export type MutationCompareAnalysesArgs = {
  feedbackID: Scalars['ID']['input'];
  providers: Array<Scalars['String']['input']>;
};


export type MutationCreateApiKeyArgs = {
  input: CreateApiKeyInput;
};


export type MutationCreateAutoApplyRuleArgs = {
  input: CreateAutoApplyRuleInput;
};


export type MutationCreateOrganizationArgs = {
  input: CreateOrganizationInput;
};


export type MutationCreateProjectArgs = {
  input: CreateProjectInput;
  organizationID?: InputMaybe<Scalars['ID']['input']>;
};


export type MutationCreateTaskArgs = {
  input: CreateTaskInput;
};


export type MutationCreateWebhookArgs = {
  input: CreateWebhookInput;
};


export type MutationDeleteAutoApplyRuleArgs = {
  id: Scalars['ID']['input'];
};


export type MutationDeleteCommentArgs = {
  id: Scalars['ID']['input'];
};


export type MutationDeleteOrganizationArgs = {
  id: Scalars['ID']['input'];
};


export type MutationDeleteProjectArgs = {
  id: Scalars['ID']['input'];
};


export type MutationDeleteTaskArgs = {
  id: Scalars['ID']['input'];
};


export type MutationDeleteWebhookArgs = {
  id: Scalars['ID']['input'];
};


export type MutationEditCommentArgs = {
  body: Scalars['String']['input'];
  id: Scalars['ID']['input'];
};


export type MutationLinkGitHubRepositoryArgs = {
  input: LinkGitHubRepositoryInput;
};


export type MutationRedeliverWebhookArgs = {
  deliveryID: Scalars['ID']['input'];
};


export type MutationRejectAdjustmentArgs = {
  id: Scalars['ID']['input'];
  reason?: InputMaybe<Scalars['String']['input']>;
};


export type MutationRemoveOrganizationMemberArgs = {
  id: Scalars['ID']['input'];
};


export type MutationRemoveProjectMemberArgs = {
  id: Scalars['ID']['input'];
};


export type MutationRetryFeedbackArgs = {
  id: Scalars['ID']['input'];
};


export type MutationRevertAdjustmentArgs = {
  id: Scalars['ID']['input'];
};


export type MutationRevokeApiKeyArgs = {
  id: Scalars['ID']['input'];
};


export type MutationSetDigestArgs = {
  email?: InputMaybe<Scalars['String']['input']>;
  frequency: DigestFrequency;
  projectID: Scalars['ID']['input'];
};


export type MutationSubmitFeedbackArgs = {
  input: SubmitFeedbackInput;
};


export type MutationUnlinkGitHubRepositoryArgs = {
  projectID: Scalars['ID']['input'];
};


export type MutationUpdateAutoApplyRuleArgs = {
  id: Scalars['ID']['input'];
  input: AutoApplyRuleInput;
};


export type MutationUpdateOrganizationArgs = {
  id: Scalars['ID']['input'];
  input: UpdateOrganizationInput;
};


export type MutationUpdateOrganizationMemberArgs = {
  id: Scalars['ID']['input'];
  input: UpdateOrganizationMemberInput;
};


export type MutationUpdateProjectArgs = {
  id: Scalars['ID']['input'];
  input: UpdateProjectInput;
};


export type MutationUpdateProjectMemberArgs = {
  id: Scalars['ID']['input'];
  input: UpdateProjectMemberInput;
};


export type MutationUpdateTaskArgs = {
  id: Scalars['ID']['input'];
  input: UpdateTaskInput;
};


export type MutationUpdateWebhookArgs = {
  id: Scalars['ID']['input'];
  input: UpdateWebhookInput;
};


export type MutationVoteAdjustmentArgs = {
  id: Scalars['ID']['input'];
  value: Vote;
};

/**
 * An object with an ID.
 * Follows the [Relay Global Object Identification Specification](https://relay.dev/graphql/objectidentification.htm)
 */
export type Node = {
  /** The id of the object. */
  id: Scalars['ID']['output'];
};

/** Possible directions in which to order a list of items when provided an `orderBy` argument. */
export type OrderDirection =
  /** Specifies an ascending order for a given `orderBy` argument. */
  | 'ASC'
  /** Specifies a descending order for a given `orderBy` argument. */
  | 'DESC';

export type Organization = Node & {
  __typename?: 'Organization';
  createdAt: Scalars['Time']['output'];
  id: Scalars['ID']['output'];
  members: Array<OrganizationMember>;
  name: Scalars['String']['output'];
  /** Whether this is a person's personal organisation (their projects' default home). */
  personal: Scalars['Boolean']['output'];
  projects: ProjectConnection;
  updatedAt: Scalars['Time']['output'];
  /** The caller's role in it. */
  viewerRole?: Maybe<OrganizationRole>;
  webhooks: Array<Webhook>;
};


export type OrganizationProjectsArgs = {
  after?: InputMaybe<Scalars['Cursor']['input']>;
  before?: InputMaybe<Scalars['Cursor']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  last?: InputMaybe<Scalars['Int']['input']>;
  orderBy?: InputMaybe<ProjectOrder>;
};

/** A person's role in an organisation. */
export type OrganizationMember = {
  __typename?: 'OrganizationMember';
  createdAt: Scalars['Time']['output'];
  id: Scalars['ID']['output'];
  role: OrganizationRole;
  user: User;
};

/** Ordering options for Organization connections */
export type OrganizationOrder = {
  /** The ordering direction. */
  direction?: OrderDirection;
  /** The field by which to order Organizations. */
  field: OrganizationOrderField;
};

/** Properties by which Organization connections can be ordered. */
export type OrganizationOrderField =
  | 'CREATED_AT'
  | 'UPDATED_AT';

/**
 * What a member may do in an organisation. OWNER and ADMIN act as OWNER of
 * every project of the organisation; MEMBER sees only the projects that grant
 * them a role. Only OWNERs manage OWNERs.
 */
export type OrganizationRole =
  | 'ADMIN'
  | 'MEMBER'
  | 'OWNER';

/**
 * Information about pagination in a connection.
 * https://relay.dev/graphql/connections.htm#sec-undefined.PageInfo
 */
export type PageInfo = {
  __typename?: 'PageInfo';
  /** When paginating forwards, the cursor to continue. */
  endCursor?: Maybe<Scalars['Cursor']['output']>;
  /** When paginating forwards, are there more items? */
  hasNextPage: Scalars['Boolean']['output'];
  /** When paginating backwards, are there more items? */
  hasPreviousPage: Scalars['Boolean']['output'];
  /** When paginating backwards, the cursor to continue. */
  startCursor?: Maybe<Scalars['Cursor']['output']>;
};

/** Percentiles (continuous, interpolated) of the time from submission to COMPLETED. */
export type ProcessingTimeStats = {
  __typename?: 'ProcessingTimeStats';
  /** How many COMPLETED feedback the percentiles are over. */
  count: Scalars['Int']['output'];
  /** Median in milliseconds; null when count is 0. */
  p50Ms?: Maybe<Scalars['Float']['output']>;
  /** 95th percentile in milliseconds; null when count is 0. */
  p95Ms?: Maybe<Scalars['Float']['output']>;
};

export type Project = Node & {
  __typename?: 'Project';
  /**
   * The suggestions made for this project, by ID unless orderBy says otherwise
   * (orderBy: {field: SCORE, direction: DESC} puts the most up-voted first).
   */
  adjustments: AdjustmentConnection;
  /** The rules of the project's auto-apply policy (none: off). */
  autoApplyRules: Array<AutoApplyRule>;
  createdAt: Scalars['Time']['output'];
  description?: Maybe<Scalars['String']['output']>;
  feedbacks: FeedbackConnection;
  /** The GitHub repository linked (linkGitHubRepository); null when none is. */
  githubRepository?: Maybe<GitHubRepository>;
  id: Scalars['ID']['output'];
  members: Array<ProjectMember>;
  name: Scalars['String']['output'];
  /** The organisation owning the project; null when you are not a member of it. */
  organization?: Maybe<Organization>;
  status: ProjectStatus;
  tasks: TaskConnection;
  updatedAt: Scalars['Time']['output'];
  /** Whether VIEWERs may comment on the project's feedback and suggestions; EDITORs and OWNERs always may. Only an OWNER changes it. */
  viewersMayComment: Scalars['Boolean']['output'];
  webhooks: Array<Webhook>;
};


export type ProjectAdjustmentsArgs = {
  after?: InputMaybe<Scalars['Cursor']['input']>;
  before?: InputMaybe<Scalars['Cursor']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  last?: InputMaybe<Scalars['Int']['input']>;
  orderBy?: InputMaybe<AdjustmentOrder>;
  where?: InputMaybe<AdjustmentWhereInput>;
};


export type ProjectFeedbacksArgs = {
  after?: InputMaybe<Scalars['Cursor']['input']>;
  before?: InputMaybe<Scalars['Cursor']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  last?: InputMaybe<Scalars['Int']['input']>;
  orderBy?: InputMaybe<FeedbackOrder>;
  where?: InputMaybe<FeedbackWhereInput>;
};


export type ProjectTasksArgs = {
  after?: InputMaybe<Scalars['Cursor']['input']>;
  before?: InputMaybe<Scalars['Cursor']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  last?: InputMaybe<Scalars['Int']['input']>;
  orderBy?: InputMaybe<TaskOrder>;
  where?: InputMaybe<TaskWhereInput>;
};

/** A project's model spend in the current UTC calendar month against its monthly budget. */
export type ProjectBudget = {
  __typename?: 'ProjectBudget';
  /** The price table's currency (LLM_PRICE_CURRENCY). */
  currency: Scalars['String']['output'];
  /**
   * Whether spentThisMonth has reached monthlyBudget: until resetsAt, no model
   * is called for the project, and its feedback is analysed by the built-in
   * rules if LLM_FALLBACK names builtin, or fails.
   */
  exceeded: Scalars['Boolean']['output'];
  /** LLM_PROJECT_MONTHLY_BUDGET; null when there is none. */
  monthlyBudget?: Maybe<Scalars['Float']['output']>;
  /** The month's start (UTC). */
  periodStart: Scalars['Time']['output'];
  /** monthlyBudget - spentThisMonth, at least 0; null without a budget. */
  remaining?: Maybe<Scalars['Float']['output']>;
  /** The next month's start (UTC), when the budget resets. */
  resetsAt: Scalars['Time']['output'];
  /** What the project's analyses stored this month are estimated to have cost (analyses without a price count nothing). */
  spentThisMonth: Scalars['Float']['output'];
};

/** A connection to a list of items. */
export type ProjectConnection = {
  __typename?: 'ProjectConnection';
  /** A list of edges. */
  edges?: Maybe<Array<Maybe<ProjectEdge>>>;
  /** Information to aid in pagination. */
  pageInfo: PageInfo;
  /** Identifies the total count of items in the connection. */
  totalCount: Scalars['Int']['output'];
};

/** An edge in a connection. */
export type ProjectEdge = {
  __typename?: 'ProjectEdge';
  /** A cursor for use in pagination. */
  cursor: Scalars['Cursor']['output'];
  /** The item at the end of the edge. */
  node?: Maybe<Project>;
};

/** An event of projectEvents. */
export type ProjectEvent = AdjustmentEvent | CommentEvent | FeedbackStatusEvent | TaskEvent | VoteEvent;

/** The insights of one project over one window (see Query.projectInsights). */
export type ProjectInsights = {
  __typename?: 'ProjectInsights';
  /**
   * The project's model spend this month (UTC) against its monthly budget
   * (LLM_PROJECT_MONTHLY_BUDGET), whatever the window. Only the project's
   * OWNERs may see it: others get null and a FORBIDDEN error.
   */
  budget?: Maybe<ProjectBudget>;
  failures: FailureStats;
  /** Feedback per status: all four, in lifecycle order (PENDING, PROCESSING, COMPLETED, FAILED), zero counts included. */
  feedbackByStatus: Array<FeedbackStatusCount>;
  /** Feedback created in the window. */
  feedbackCount: Scalars['Int']['output'];
  /** Feedback per day of createdAt in UTC, oldest first. Days without feedback are left out. */
  feedbackPerDay: Array<FeedbackDayCount>;
  /**
   * The same per provider and model that analysed the feedback, with their
   * processing times and spend, so models can be compared on real decisions
   * and cost. Most analyses first.
   */
  models: Array<ModelStats>;
  /** From submission (createdAt) to COMPLETED, over all COMPLETED feedback. */
  processingTime: ProcessingTimeStats;
  /** The window's start (inclusive), as given; null: from the beginning. */
  since?: Maybe<Scalars['Time']['output']>;
  /** The tokens the window's COMPLETED feedback used and what they are estimated to have cost. */
  spend: SpendStats;
  /** The suggestions of the window's feedback, overall and per type. */
  suggestions: SuggestionStats;
  /**
   * The most frequent feedback themes: groups of feedback whose normalised
   * texts are similar (pg_trgm similarity of at least 0.5, as
   * Feedback.similar), among the window's newest 500 feedback. Only groups of
   * two or more; largest first. first: from 1 to 20.
   */
  themes: Array<FeedbackTheme>;
  /**
   * The 10 tasks mentioned most: each feedback submitted on a task and each
   * suggestion about it is a mention. Most mentions first; deleted tasks are
   * left out.
   */
  topTasks: Array<TaskMention>;
  /** The window's end (exclusive), as given; null: until now. */
  until?: Maybe<Scalars['Time']['output']>;
};


/** The insights of one project over one window (see Query.projectInsights). */
export type ProjectInsightsThemesArgs = {
  first?: Scalars['Int']['input'];
};

export type ProjectMember = Node & {
  __typename?: 'ProjectMember';
  createdAt: Scalars['Time']['output'];
  /** The member's email digest of the project: NONE, DAILY or WEEKLY (setDigest; the member's own choice). */
  digest: DigestFrequency;
  id: Scalars['ID']['output'];
  project: Project;
  projectID: Scalars['ID']['output'];
  role: Role;
  updatedAt: Scalars['Time']['output'];
  user: User;
  userID: Scalars['ID']['output'];
};

/** Ordering options for ProjectMember connections */
export type ProjectMemberOrder = {
  /** The ordering direction. */
  direction?: OrderDirection;
  /** The field by which to order ProjectMembers. */
  field: ProjectMemberOrderField;
};

/** Properties by which ProjectMember connections can be ordered. */
export type ProjectMemberOrderField =
  | 'CREATED_AT'
  | 'UPDATED_AT';

/** Ordering options for Project connections */
export type ProjectOrder = {
  /** The ordering direction. */
  direction?: OrderDirection;
  /** The field by which to order Projects. */
  field: ProjectOrderField;
};

/** Properties by which Project connections can be ordered. */
export type ProjectOrderField =
  | 'CREATED_AT'
  | 'NAME'
  | 'STATUS'
  | 'UPDATED_AT';

/** ProjectStatus is enum for the field status */
export type ProjectStatus =
  | 'ACTIVE'
  | 'ARCHIVED'
  | 'COMPLETED'
  | 'ON_HOLD';

/** A project's velocity over a window of ISO weeks (see Query.projectVelocity). */
export type ProjectVelocity = {
  __typename?: 'ProjectVelocity';
  /** Tasks completed over the window (a task counts once per week it was completed in). */
  completed: Scalars['Int']['output'];
  /** Cycle times over the window. */
  cycleTime: CycleTimeStats;
  /** The oldest week's Monday, 00:00 UTC: the window's start. */
  since: Scalars['Time']['output'];
  /** Every week of the window, oldest first, the current week last; weeks without completions included. */
  weeks: Array<VelocityWeek>;
};

/**
 * ProjectWhereInput is used for filtering Project objects.
 * Input was generated by ent.
 */
export type ProjectWhereInput = {
  and?: InputMaybe<Array<ProjectWhereInput>>;
  /** created_at field predicates */
  createdAt?: InputMaybe<Scalars['Time']['input']>;
  createdAtGT?: InputMaybe<Scalars['Time']['input']>;
  createdAtGTE?: InputMaybe<Scalars['Time']['input']>;
  createdAtIn?: InputMaybe<Array<Scalars['Time']['input']>>;
  createdAtLT?: InputMaybe<Scalars['Time']['input']>;
  createdAtLTE?: InputMaybe<Scalars['Time']['input']>;
  createdAtNEQ?: InputMaybe<Scalars['Time']['input']>;
  createdAtNotIn?: InputMaybe<Array<Scalars['Time']['input']>>;
  /** description field predicates */
  description?: InputMaybe<Scalars['String']['input']>;
  descriptionContains?: InputMaybe<Scalars['String']['input']>;
  descriptionContainsFold?: InputMaybe<Scalars['String']['input']>;
  descriptionEqualFold?: InputMaybe<Scalars['String']['input']>;
  descriptionGT?: InputMaybe<Scalars['String']['input']>;
  descriptionGTE?: InputMaybe<Scalars['String']['input']>;
  descriptionHasPrefix?: InputMaybe<Scalars['String']['input']>;
  descriptionHasSuffix?: InputMaybe<Scalars['String']['input']>;
  descriptionIn?: InputMaybe<Array<Scalars['String']['input']>>;
  descriptionIsNil?: InputMaybe<Scalars['Boolean']['input']>;
  descriptionLT?: InputMaybe<Scalars['String']['input']>;
  descriptionLTE?: InputMaybe<Scalars['String']['input']>;
  descriptionNEQ?: InputMaybe<Scalars['String']['input']>;
  descriptionNotIn?: InputMaybe<Array<Scalars['String']['input']>>;
  descriptionNotNil?: InputMaybe<Scalars['Boolean']['input']>;
  /** feedbacks edge predicates */
  hasFeedbacks?: InputMaybe<Scalars['Boolean']['input']>;
  hasFeedbacksWith?: InputMaybe<Array<FeedbackWhereInput>>;
  /** tasks edge predicates */
  hasTasks?: InputMaybe<Scalars['Boolean']['input']>;
  hasTasksWith?: InputMaybe<Array<TaskWhereInput>>;
  /** id field predicates */
  id?: InputMaybe<Scalars['ID']['input']>;
  idGT?: InputMaybe<Scalars['ID']['input']>;
  idGTE?: InputMaybe<Scalars['ID']['input']>;
  idIn?: InputMaybe<Array<Scalars['ID']['input']>>;
  idLT?: InputMaybe<Scalars['ID']['input']>;
  idLTE?: InputMaybe<Scalars['ID']['input']>;
  idNEQ?: InputMaybe<Scalars['ID']['input']>;
  idNotIn?: InputMaybe<Array<Scalars['ID']['input']>>;
  /** name field predicates */
  name?: InputMaybe<Scalars['String']['input']>;
  nameContains?: InputMaybe<Scalars['String']['input']>;
  nameContainsFold?: InputMaybe<Scalars['String']['input']>;
  nameEqualFold?: InputMaybe<Scalars['String']['input']>;
  nameGT?: InputMaybe<Scalars['String']['input']>;
  nameGTE?: InputMaybe<Scalars['String']['input']>;
  nameHasPrefix?: InputMaybe<Scalars['String']['input']>;
  nameHasSuffix?: InputMaybe<Scalars['String']['input']>;
  nameIn?: InputMaybe<Array<Scalars['String']['input']>>;
  nameLT?: InputMaybe<Scalars['String']['input']>;
  nameLTE?: InputMaybe<Scalars['String']['input']>;
  nameNEQ?: InputMaybe<Scalars['String']['input']>;
  nameNotIn?: InputMaybe<Array<Scalars['String']['input']>>;
  not?: InputMaybe<ProjectWhereInput>;
  or?: InputMaybe<Array<ProjectWhereInput>>;
  /** status field predicates */
  status?: InputMaybe<ProjectStatus>;
  statusIn?: InputMaybe<Array<ProjectStatus>>;
  statusNEQ?: InputMaybe<ProjectStatus>;
  statusNotIn?: InputMaybe<Array<ProjectStatus>>;
  /** updated_at field predicates */
  updatedAt?: InputMaybe<Scalars['Time']['input']>;
  updatedAtGT?: InputMaybe<Scalars['Time']['input']>;
  updatedAtGTE?: InputMaybe<Scalars['Time']['input']>;
  updatedAtIn?: InputMaybe<Array<Scalars['Time']['input']>>;
  updatedAtLT?: InputMaybe<Scalars['Time']['input']>;
  updatedAtLTE?: InputMaybe<Scalars['Time']['input']>;
  updatedAtNEQ?: InputMaybe<Scalars['Time']['input']>;
  updatedAtNotIn?: InputMaybe<Array<Scalars['Time']['input']>>;
  /** viewers_may_comment field predicates */
  viewersMayComment?: InputMaybe<Scalars['Boolean']['input']>;
  viewersMayCommentNEQ?: InputMaybe<Scalars['Boolean']['input']>;
};

export type Query = {
  __typename?: 'Query';
  /** The caller's own API keys, newest first. */
  apiKeys: ApiKeyConnection;
  /**
   * What the project's auto-apply rules (or the rules given, to try some
   * before adding them) would have applied of the suggestions made in the
   * last days days (1 to 90), by kind and confidence. Whether one would have
   * conflicted with a changed task cannot be known after the fact, so the
   * counts are an upper bound. Needs OWNER.
   */
  autoApplyDryRun: AutoApplyDryRun;
  feedbacks: FeedbackConnection;
  /** Fetches an object given its ID. */
  node?: Maybe<Node>;
  /** Lookup nodes by a list of IDs. */
  nodes: Array<Maybe<Node>>;
  /** The organisations the caller is a member of, oldest first. */
  organizations: Array<Organization>;
  /**
   * What the feedback loop learns about a project: how its feedback fares, how
   * long analyses take and why they fail, which suggestions people accept (per
   * type and per model) and which tasks come up most. Counts the feedback
   * created in [since, until) (half-open; a missing bound is open, so the
   * default is all time) and the suggestions of that feedback, whatever their
   * decision's date. Needs read access to the project.
   */
  projectInsights: ProjectInsights;
  /**
   * How fast a project finishes its tasks: the tasks completed (moved to DONE)
   * per ISO week (Monday to Sunday, UTC) and their cycle times, over the last
   * `weeks` weeks, the current one included (1 to 104). Read from the tasks'
   * status history. Needs read access to the project (any role).
   */
  projectVelocity: ProjectVelocity;
  projects: ProjectConnection;
  /**
   * The caller's request budget, after this request was charged. Null (with an
   * UNAVAILABLE error) when the budget cannot be read right now.
   */
  rateLimit?: Maybe<RateLimit>;
  tasks: TaskConnection;
  /**
   * Who is calling: the identity the credentials name, and the projects it may
   * access with its role on each.
   */
  viewer: Viewer;
};


export type QueryApiKeysArgs = {
  after?: InputMaybe<Scalars['Cursor']['input']>;
  before?: InputMaybe<Scalars['Cursor']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  last?: InputMaybe<Scalars['Int']['input']>;
};


export type QueryAutoApplyDryRunArgs = {
  days: Scalars['Int']['input'];
  projectID: Scalars['ID']['input'];
  rules?: InputMaybe<Array<AutoApplyRuleInput>>;
};


export type QueryFeedbacksArgs = {
  after?: InputMaybe<Scalars['Cursor']['input']>;
  before?: InputMaybe<Scalars['Cursor']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  last?: InputMaybe<Scalars['Int']['input']>;
  orderBy?: InputMaybe<FeedbackOrder>;
  where?: InputMaybe<FeedbackWhereInput>;
};


export type QueryNodeArgs = {
  id: Scalars['ID']['input'];
};


export type QueryNodesArgs = {
  ids: Array<Scalars['ID']['input']>;
};


export type QueryProjectInsightsArgs = {
  projectID: Scalars['ID']['input'];
  since?: InputMaybe<Scalars['Time']['input']>;
  until?: InputMaybe<Scalars['Time']['input']>;
};


export type QueryProjectVelocityArgs = {
  projectID: Scalars['ID']['input'];
  weeks?: InputMaybe<Scalars['Int']['input']>;
};


export type QueryProjectsArgs = {
  after?: InputMaybe<Scalars['Cursor']['input']>;
  before?: InputMaybe<Scalars['Cursor']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  last?: InputMaybe<Scalars['Int']['input']>;
  orderBy?: InputMaybe<ProjectOrder>;
  where?: InputMaybe<ProjectWhereInput>;
};


export type QueryTasksArgs = {
  after?: InputMaybe<Scalars['Cursor']['input']>;
  before?: InputMaybe<Scalars['Cursor']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  last?: InputMaybe<Scalars['Int']['input']>;
  orderBy?: InputMaybe<TaskOrder>;
  where?: InputMaybe<TaskWhereInput>;
};

/**
 * A client's request budget, shared by every instance. A query costs its
 * complexity divided by 100 (at least 1 point); a mutation costs 5 points more
 * per root field; a subscription's events cost a point per 10 KB delivered; a
 * document not seen before costs a point per 1,000 tokens. The budget refills
 * continuously.
 */
export type RateLimit = {
  __typename?: 'RateLimit';
  /** What this request cost. */
  cost: Scalars['Int']['output'];
  /** Points per window (RATE_LIMIT_POINTS per RATE_LIMIT_WINDOW). */
  limit: Scalars['Int']['output'];
  /** Points left. */
  remaining: Scalars['Int']['output'];
  /** When the budget is full again. */
  resetAt: Scalars['Time']['output'];
  /** Points spent: limit - remaining. */
  used: Scalars['Int']['output'];
};

/** A snapshot of a task a suggestion removed. */
export type RemovedTask = {
  __typename?: 'RemovedTask';
  description?: Maybe<Scalars['String']['output']>;
  estimatedHours?: Maybe<Scalars['Float']['output']>;
  id: Scalars['ID']['output'];
  priority: Scalars['Int']['output'];
  status: TaskStatus;
  title: Scalars['String']['output'];
  version: Scalars['Int']['output'];
};

/** Role is enum for the field role */
export type Role =
  | 'EDITOR'
  | 'OWNER'
  | 'VIEWER';

/** A feedback near another by text (Feedback.similar). */
export type SimilarFeedback = {
  __typename?: 'SimilarFeedback';
  feedback: Feedback;
  /**
   * How similar: by TEXT from 0 to 1 (1: the same once normalised), by
   * MEANING the embeddings' cosine similarity, from -1 to 1.
   */
  score: Scalars['Float']['output'];
};

/** How Feedback.similar compares feedback. */
export type Similarity =
  /** The meaning, by embeddings. */
  | 'MEANING'
  /** The words, by trigrams. */
  | 'TEXT';

/**
 * Tokens and estimated cost of analyses, as stored with each feedback
 * (Feedback's inputTokens, outputTokens and estimatedCost). Costs come from the
 * price table (LLM_PRICES) at the time of each analysis. Per model, only
 * COMPLETED feedback counts (FAILED feedback records no model); overall, FAILED
 * feedback's tokens count too.
 */
export type SpendStats = {
  __typename?: 'SpendStats';
  /** The price table's currency (LLM_PRICE_CURRENCY), such as USD. */
  currency: Scalars['String']['output'];
  /** The estimated costs, summed, in currency; null when no analysis has one. */
  estimatedCost?: Maybe<Scalars['Float']['output']>;
  /** Input (prompt) tokens, summed; analyses whose provider reported none count 0. */
  inputTokens: Scalars['Int']['output'];
  /** Output (completion) tokens, summed. */
  outputTokens: Scalars['Int']['output'];
  /** Analyses with tokens but no cost (their model has no price in LLM_PRICES): not in estimatedCost. */
  unpricedAnalyses: Scalars['Int']['output'];
};

export type SubmitFeedbackInput = {
  /** The feedback, 1 to 10,000 characters. */
  feedbackText: Scalars['String']['input'];
  /**
   * How soon it is analysed. Workers take HIGH jobs most often and LOW ones
   * least, but never starve LOW. Retries and feedback queued again by the
   * reconciler run at LOW.
   */
  priority?: AnalysisPriority;
  projectID: Scalars['ID']['input'];
  /** A task of that project the feedback is about. */
  taskID?: InputMaybe<Scalars['ID']['input']>;
  /** Who gave the feedback (at most 255 characters). */
  userName?: InputMaybe<Scalars['String']['input']>;
};

export type Subscription = {
  __typename?: 'Subscription';
  /**
   * Status changes of one feedback. The first event is its current state (so a
   * late subscriber never misses the end); then every change, in order, without
   * duplicates. Completes after COMPLETED or FAILED. With after (a cursor of an
   * earlier event), it replays the changes after that event instead.
   */
  feedbackStatusChanged: FeedbackStatusEvent;
  /**
   * Everything a board of the project needs, live: feedback status changes,
   * task changes (from mutations and applied suggestions), decisions on
   * suggestions, comments and changes of suggestions' scores, from every API instance, in commit order. Pass the cursor of
   * the last event you saw as after to resume without gaps or duplicates.
   */
  projectEvents: ProjectEvent;
  /**
   * Every status change of every feedback of a project, until unsubscribed.
   * Pass the cursor of the last event you saw as after to resume without gaps.
   */
  projectFeedbackEvents: FeedbackStatusEvent;
};


export type SubscriptionFeedbackStatusChangedArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  id: Scalars['ID']['input'];
};


export type SubscriptionProjectEventsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  projectID: Scalars['ID']['input'];
};


export type SubscriptionProjectFeedbackEventsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  projectID: Scalars['ID']['input'];
};

/** Suggestions counted by their decision. */
export type SuggestionStats = {
  __typename?: 'SuggestionStats';
  /** applied / (applied + rejected), from 0 to 1: pending suggestions do not count. Null while none was decided. */
  acceptanceRate?: Maybe<Scalars['Float']['output']>;
  applied: Scalars['Int']['output'];
  /** Per type, most suggested first; types never suggested are left out. */
  byType: Array<SuggestionTypeStats>;
  /** Still PROPOSED. */
  pending: Scalars['Int']['output'];
  rejected: Scalars['Int']['output'];
  total: Scalars['Int']['output'];
};

export type SuggestionTypeStats = {
  __typename?: 'SuggestionTypeStats';
  /** applied / (applied + rejected); null while none was decided. */
  acceptanceRate?: Maybe<Scalars['Float']['output']>;
  applied: Scalars['Int']['output'];
  pending: Scalars['Int']['output'];
  rejected: Scalars['Int']['output'];
  total: Scalars['Int']['output'];
  type: AdjustmentType;
};

export type Task = Node & {
  __typename?: 'Task';
  createdAt: Scalars['Time']['output'];
  description?: Maybe<Scalars['String']['output']>;
  estimatedHours?: Maybe<Scalars['Float']['output']>;
  /** The GitHub issue opened for the task (its project linked a repository when a NEW_TASK suggestion created it). */
  githubIssueNumber?: Maybe<Scalars['Int']['output']>;
  /** The GitHub issue's page. */
  githubIssueURL?: Maybe<Scalars['String']['output']>;
  id: Scalars['ID']['output'];
  priority: Scalars['Int']['output'];
  project: Project;
  projectID: Scalars['ID']['output'];
  status: TaskStatus;
  title: Scalars['String']['output'];
  updatedAt: Scalars['Time']['output'];
  /** Incremented on every change, so clients and conflict checks can tell the task changed. */
  version: Scalars['Int']['output'];
};

export type TaskChange =
  | 'CREATED'
  | 'DELETED'
  | 'UPDATED';

/** A connection to a list of items. */
export type TaskConnection = {
  __typename?: 'TaskConnection';
  /** A list of edges. */
  edges?: Maybe<Array<Maybe<TaskEdge>>>;
  /** Information to aid in pagination. */
  pageInfo: PageInfo;
  /** Identifies the total count of items in the connection. */
  totalCount: Scalars['Int']['output'];
};

/** An edge in a connection. */
export type TaskEdge = {
  __typename?: 'TaskEdge';
  /** A cursor for use in pagination. */
  cursor: Scalars['Cursor']['output'];
  /** The item at the end of the edge. */
  node?: Maybe<Task>;
};

/** A task was created, changed or deleted. */
export type TaskEvent = {
  __typename?: 'TaskEvent';
  at: Scalars['Time']['output'];
  /** Who made the change; null for the system. */
  by?: Maybe<User>;
  change: TaskChange;
  /** Pass as after to resume after this event. */
  cursor: Scalars['String']['output'];
  /** The task after the change (before it, for DELETED). */
  task: Task;
  /** The task's version after the change; strictly increasing per task. */
  version: Scalars['Int']['output'];
};

export type TaskMention = {
  __typename?: 'TaskMention';
  /** Feedback submitted on the task. */
  feedbackCount: Scalars['Int']['output'];
  /** feedbackCount + suggestionCount. */
  mentions: Scalars['Int']['output'];
  /** Suggestions about the task. */
  suggestionCount: Scalars['Int']['output'];
  task: Task;
};

/** Ordering options for Task connections */
export type TaskOrder = {
  /** The ordering direction. */
  direction?: OrderDirection;
  /** The field by which to order Tasks. */
  field: TaskOrderField;
};

/** Properties by which Task connections can be ordered. */
export type TaskOrderField =
  | 'CREATED_AT'
  | 'PRIORITY'
  | 'STATUS'
  | 'TITLE'
  | 'UPDATED_AT';

/** TaskStatus is enum for the field status */
export type TaskStatus =
  | 'BLOCKED'
  | 'DONE'
  | 'IN_PROGRESS'
  | 'TODO';

/**
 * TaskWhereInput is used for filtering Task objects.
 * Input was generated by ent.
 */
export type TaskWhereInput = {
  and?: InputMaybe<Array<TaskWhereInput>>;
  /** created_at field predicates */
  createdAt?: InputMaybe<Scalars['Time']['input']>;
  createdAtGT?: InputMaybe<Scalars['Time']['input']>;
  createdAtGTE?: InputMaybe<Scalars['Time']['input']>;
  createdAtIn?: InputMaybe<Array<Scalars['Time']['input']>>;
  createdAtLT?: InputMaybe<Scalars['Time']['input']>;
  createdAtLTE?: InputMaybe<Scalars['Time']['input']>;
  createdAtNEQ?: InputMaybe<Scalars['Time']['input']>;
  createdAtNotIn?: InputMaybe<Array<Scalars['Time']['input']>>;
  /** description field predicates */
  description?: InputMaybe<Scalars['String']['input']>;
  descriptionContains?: InputMaybe<Scalars['String']['input']>;
  descriptionContainsFold?: InputMaybe<Scalars['String']['input']>;
  descriptionEqualFold?: InputMaybe<Scalars['String']['input']>;
  descriptionGT?: InputMaybe<Scalars['String']['input']>;
  descriptionGTE?: InputMaybe<Scalars['String']['input']>;
  descriptionHasPrefix?: InputMaybe<Scalars['String']['input']>;
  descriptionHasSuffix?: InputMaybe<Scalars['String']['input']>;
  descriptionIn?: InputMaybe<Array<Scalars['String']['input']>>;
  descriptionIsNil?: InputMaybe<Scalars['Boolean']['input']>;
  descriptionLT?: InputMaybe<Scalars['String']['input']>;
  descriptionLTE?: InputMaybe<Scalars['String']['input']>;
  descriptionNEQ?: InputMaybe<Scalars['String']['input']>;
  descriptionNotIn?: InputMaybe<Array<Scalars['String']['input']>>;
  descriptionNotNil?: InputMaybe<Scalars['Boolean']['input']>;
  /** estimated_hours field predicates */
  estimatedHours?: InputMaybe<Scalars['Float']['input']>;
  estimatedHoursGT?: InputMaybe<Scalars['Float']['input']>;
  estimatedHoursGTE?: InputMaybe<Scalars['Float']['input']>;
  estimatedHoursIn?: InputMaybe<Array<Scalars['Float']['input']>>;
  estimatedHoursIsNil?: InputMaybe<Scalars['Boolean']['input']>;
  estimatedHoursLT?: InputMaybe<Scalars['Float']['input']>;
  estimatedHoursLTE?: InputMaybe<Scalars['Float']['input']>;
  estimatedHoursNEQ?: InputMaybe<Scalars['Float']['input']>;
  estimatedHoursNotIn?: InputMaybe<Array<Scalars['Float']['input']>>;
  estimatedHoursNotNil?: InputMaybe<Scalars['Boolean']['input']>;
  /** project edge predicates */
  hasProject?: InputMaybe<Scalars['Boolean']['input']>;
  hasProjectWith?: InputMaybe<Array<ProjectWhereInput>>;
  /** id field predicates */
  id?: InputMaybe<Scalars['ID']['input']>;
  idGT?: InputMaybe<Scalars['ID']['input']>;
  idGTE?: InputMaybe<Scalars['ID']['input']>;
  idIn?: InputMaybe<Array<Scalars['ID']['input']>>;
  idLT?: InputMaybe<Scalars['ID']['input']>;
  idLTE?: InputMaybe<Scalars['ID']['input']>;
  idNEQ?: InputMaybe<Scalars['ID']['input']>;
  idNotIn?: InputMaybe<Array<Scalars['ID']['input']>>;
  not?: InputMaybe<TaskWhereInput>;
  or?: InputMaybe<Array<TaskWhereInput>>;
  /** priority field predicates */
  priority?: InputMaybe<Scalars['Int']['input']>;
  priorityGT?: InputMaybe<Scalars['Int']['input']>;
  priorityGTE?: InputMaybe<Scalars['Int']['input']>;
  priorityIn?: InputMaybe<Array<Scalars['Int']['input']>>;
  priorityLT?: InputMaybe<Scalars['Int']['input']>;
  priorityLTE?: InputMaybe<Scalars['Int']['input']>;
  priorityNEQ?: InputMaybe<Scalars['Int']['input']>;
  priorityNotIn?: InputMaybe<Array<Scalars['Int']['input']>>;
  /** project_id field predicates */
  projectID?: InputMaybe<Scalars['ID']['input']>;
  projectIDIn?: InputMaybe<Array<Scalars['ID']['input']>>;
  projectIDNEQ?: InputMaybe<Scalars['ID']['input']>;
  projectIDNotIn?: InputMaybe<Array<Scalars['ID']['input']>>;
  /** status field predicates */
  status?: InputMaybe<TaskStatus>;
  statusIn?: InputMaybe<Array<TaskStatus>>;
  statusNEQ?: InputMaybe<TaskStatus>;
  statusNotIn?: InputMaybe<Array<TaskStatus>>;
  /** title field predicates */
  title?: InputMaybe<Scalars['String']['input']>;
  titleContains?: InputMaybe<Scalars['String']['input']>;
  titleContainsFold?: InputMaybe<Scalars['String']['input']>;
  titleEqualFold?: InputMaybe<Scalars['String']['input']>;
  titleGT?: InputMaybe<Scalars['String']['input']>;
  titleGTE?: InputMaybe<Scalars['String']['input']>;
  titleHasPrefix?: InputMaybe<Scalars['String']['input']>;
  titleHasSuffix?: InputMaybe<Scalars['String']['input']>;
  titleIn?: InputMaybe<Array<Scalars['String']['input']>>;
  titleLT?: InputMaybe<Scalars['String']['input']>;
  titleLTE?: InputMaybe<Scalars['String']['input']>;
  titleNEQ?: InputMaybe<Scalars['String']['input']>;
  titleNotIn?: InputMaybe<Array<Scalars['String']['input']>>;
  /** updated_at field predicates */
  updatedAt?: InputMaybe<Scalars['Time']['input']>;
  updatedAtGT?: InputMaybe<Scalars['Time']['input']>;
  updatedAtGTE?: InputMaybe<Scalars['Time']['input']>;
  updatedAtIn?: InputMaybe<Array<Scalars['Time']['input']>>;
  updatedAtLT?: InputMaybe<Scalars['Time']['input']>;
  updatedAtLTE?: InputMaybe<Scalars['Time']['input']>;
  updatedAtNEQ?: InputMaybe<Scalars['Time']['input']>;
  updatedAtNotIn?: InputMaybe<Array<Scalars['Time']['input']>>;
  /** version field predicates */
  version?: InputMaybe<Scalars['Int']['input']>;
  versionGT?: InputMaybe<Scalars['Int']['input']>;
  versionGTE?: InputMaybe<Scalars['Int']['input']>;
  versionIn?: InputMaybe<Array<Scalars['Int']['input']>>;
  versionLT?: InputMaybe<Scalars['Int']['input']>;
  versionLTE?: InputMaybe<Scalars['Int']['input']>;
  versionNEQ?: InputMaybe<Scalars['Int']['input']>;
  versionNotIn?: InputMaybe<Array<Scalars['Int']['input']>>;
};

export type UpdateOrganizationInput = {
  /** The new name; omitted, the name stays. */
  name?: InputMaybe<Scalars['String']['input']>;
};

export type UpdateOrganizationMemberInput = {
  role: OrganizationRole;
};

/**
 * UpdateProjectInput is used for update Project object.
 * Input was generated by ent.
 */
export type UpdateProjectInput = {
  clearDescription?: InputMaybe<Scalars['Boolean']['input']>;
  description?: InputMaybe<Scalars['String']['input']>;
  name?: InputMaybe<Scalars['String']['input']>;
  status?: InputMaybe<ProjectStatus>;
  /** Whether VIEWERs may comment on the project's feedback and suggestions; EDITORs and OWNERs always may. Only an OWNER changes it. */
  viewersMayComment?: InputMaybe<Scalars['Boolean']['input']>;
};

export type UpdateProjectMemberInput = {
  role: Role;
};

/**
 * UpdateTaskInput is used for update Task object.
 * Input was generated by ent.
 */
export type UpdateTaskInput = {
  clearDescription?: InputMaybe<Scalars['Boolean']['input']>;
  clearEstimatedHours?: InputMaybe<Scalars['Boolean']['input']>;
  description?: InputMaybe<Scalars['String']['input']>;
  estimatedHours?: InputMaybe<Scalars['Float']['input']>;
  priority?: InputMaybe<Scalars['Int']['input']>;
  status?: InputMaybe<TaskStatus>;
  title?: InputMaybe<Scalars['String']['input']>;
};

export type UpdateWebhookInput = {
  enabled?: InputMaybe<Scalars['Boolean']['input']>;
  events?: InputMaybe<Array<WebhookEventType>>;
  url?: InputMaybe<Scalars['String']['input']>;
};

export type User = Node & {
  __typename?: 'User';
  createdAt: Scalars['Time']['output'];
  id: Scalars['ID']['output'];
  /** Display name from the token's name, preferred_username or email claim. */
  name?: Maybe<Scalars['String']['output']>;
  /** The JWT sub claim, or the built-in admin's name. */
  subject: Scalars['String']['output'];
};

/** One ISO week of a project's velocity. */
export type VelocityWeek = {
  __typename?: 'VelocityWeek';
  /** Tasks moved to DONE in the week; a task moved to DONE twice in one week counts once (its last move). */
  completed: Scalars['Int']['output'];
  /** The cycle times of those tasks. */
  cycleTime: CycleTimeStats;
  /** The ISO 8601 week, such as 2026-W49. */
  isoWeek: Scalars['String']['output'];
  /** The week's Monday, YYYY-MM-DD (UTC). */
  weekStart: Scalars['String']['output'];
};

/** The authenticated caller. */
export type Viewer = {
  __typename?: 'Viewer';
  /** The API key in use, when kind is API_KEY (null for ADMIN_API_KEY). */
  apiKey?: Maybe<ApiKey>;
  /** When the credential stops being valid; null if it does not expire. */
  expiresAt?: Maybe<Scalars['Time']['output']>;
  /** The stored User the caller acts as. */
  id: Scalars['ID']['output'];
  /**
   * Admins may do everything: ADMIN_API_KEY, open mode's local admin, and API
   * keys made without a project with the current ADMIN_API_KEY.
   */
  isAdmin: Scalars['Boolean']['output'];
  kind: ViewerKind;
  /**
   * The projects the caller may access, and its role in each (OWNER in those of
   * the organisations it is OWNER or ADMIN of). A project-scoped API key lists
   * its one project. Admins see every project but are listed only
   * where they are members.
   */
  memberships: Array<ViewerMembership>;
  name?: Maybe<Scalars['String']['output']>;
  subject: Scalars['String']['output'];
};

/** How the caller authenticated. */
export type ViewerKind =
  /** A server or script, with an API key (or the operator's ADMIN_API_KEY). */
  | 'API_KEY'
  /** A person, with a JWT (or the local admin of open mode). */
  | 'USER';

/** A project the viewer may access, and the role it acts with there. */
export type ViewerMembership = {
  __typename?: 'ViewerMembership';
  project: Project;
  role: Role;
};

/** A member's vote on a suggestion. */
export type Vote =
  | 'DOWN'
  /** No vote (voteAdjustment: withdraw it). */
  | 'NONE'
  | 'UP';

/**
 * A suggestion's score changed: someone voted on it, changed their vote or
 * withdrew it. Which way is not said; the score is.
 */
export type VoteEvent = {
  __typename?: 'VoteEvent';
  /** The suggestion with its new score. */
  adjustment: Adjustment;
  at: Scalars['Time']['output'];
  /** Who voted. */
  by?: Maybe<User>;
  /** Pass as after to resume after this event. */
  cursor: Scalars['String']['output'];
  score: Scalars['Int']['output'];
};

export type Webhook = Node & {
  __typename?: 'Webhook';
  createdAt: Scalars['Time']['output'];
  deliveries: WebhookDeliveryConnection;
  /** Why the service disabled the endpoint (a day of failed deliveries); cleared when it is enabled again. */
  disabledReason?: Maybe<Scalars['String']['output']>;
  enabled: Scalars['Boolean']['output'];
  /** The event types delivered to the endpoint. */
  events: Array<WebhookEventType>;
  /** The first failed attempt since the last successful one. */
  failingSince?: Maybe<Scalars['Time']['output']>;
  id: Scalars['ID']['output'];
  kind: WebhookKind;
  organization?: Maybe<Organization>;
  /** The organisation whose projects' events the endpoint is sent; null for a project's endpoint. */
  organizationID?: Maybe<Scalars['ID']['output']>;
  project?: Maybe<Project>;
  /** The project whose events the endpoint is sent; null for an organisation's endpoint. */
  projectID?: Maybe<Scalars['ID']['output']>;
  updatedAt: Scalars['Time']['output'];
  url: Scalars['String']['output'];
};


export type WebhookDeliveriesArgs = {
  after?: InputMaybe<Scalars['Cursor']['input']>;
  before?: InputMaybe<Scalars['Cursor']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  last?: InputMaybe<Scalars['Int']['input']>;
  orderBy?: InputMaybe<WebhookDeliveryOrder>;
};

/** One try at delivering a webhook. */
export type WebhookAttempt = {
  __typename?: 'WebhookAttempt';
  at: Scalars['Time']['output'];
  durationMs: Scalars['Int']['output'];
  /** Why the attempt failed; null when it succeeded. */
  error?: Maybe<Scalars['String']['output']>;
  /** The HTTP status the endpoint answered; null when no answer came. */
  responseCode?: Maybe<Scalars['Int']['output']>;
};

/** A connection to a list of items. */
export type WebhookConnection = {
  __typename?: 'WebhookConnection';
  /** A list of edges. */
  edges?: Maybe<Array<Maybe<WebhookEdge>>>;
  /** Information to aid in pagination. */
  pageInfo: PageInfo;
  /** Identifies the total count of items in the connection. */
  totalCount: Scalars['Int']['output'];
};

export type WebhookDelivery = Node & {
  __typename?: 'WebhookDelivery';
  attemptCount: Scalars['Int']['output'];
  /** Every attempt, oldest first. */
  attempts?: Maybe<Array<WebhookAttempt>>;
  createdAt: Scalars['Time']['output'];
  /** How long the last attempt took, in milliseconds. */
  durationMs?: Maybe<Scalars['Int']['output']>;
  /** Why the last attempt failed. */
  error?: Maybe<Scalars['String']['output']>;
  /** The outbox event delivered. */
  eventID: Scalars['Int']['output'];
  eventType: WebhookEventType;
  id: Scalars['ID']['output'];
  /** The webhook-id header: the same for every attempt and redelivery. */
  messageID: Scalars['String']['output'];
  /** When the next attempt is due; null once DELIVERED or FAILED. */
  nextAttemptAt?: Maybe<Scalars['Time']['output']>;
  /** The last attempt's HTTP status; null when no answer came. */
  responseCode?: Maybe<Scalars['Int']['output']>;
  status: WebhookDeliveryStatus;
  webhook: Webhook;
  webhookID: Scalars['ID']['output'];
};

/** A connection to a list of items. */
export type WebhookDeliveryConnection = {
  __typename?: 'WebhookDeliveryConnection';
  /** A list of edges. */
  edges?: Maybe<Array<Maybe<WebhookDeliveryEdge>>>;
  /** Information to aid in pagination. */
  pageInfo: PageInfo;
  /** Identifies the total count of items in the connection. */
  totalCount: Scalars['Int']['output'];
};

/** An edge in a connection. */
export type WebhookDeliveryEdge = {
  __typename?: 'WebhookDeliveryEdge';
  /** A cursor for use in pagination. */
  cursor: Scalars['Cursor']['output'];
  /** The item at the end of the edge. */
  node?: Maybe<WebhookDelivery>;
};

/** Ordering options for WebhookDelivery connections */
export type WebhookDeliveryOrder = {
  /** The ordering direction. */
  direction?: OrderDirection;
  /** The field by which to order WebhookDeliveries. */
  field: WebhookDeliveryOrderField;
};

/** Properties by which WebhookDelivery connections can be ordered. */
export type WebhookDeliveryOrderField =
  | 'CREATED_AT';

/** WebhookDeliveryStatus is enum for the field status */
export type WebhookDeliveryStatus =
  | 'DELIVERED'
  | 'FAILED'
  | 'PENDING';

/** An edge in a connection. */
export type WebhookEdge = {
  __typename?: 'WebhookEdge';
  /** A cursor for use in pagination. */
  cursor: Scalars['Cursor']['output'];
  /** The item at the end of the edge. */
  node?: Maybe<Webhook>;
};

/** A kind of event a webhook may be sent. */
export type WebhookEventType =
  /** A feedback's analysis completed (analysis.completed). */
  | 'ANALYSIS_COMPLETED'
  /** A feedback's analysis failed (analysis.failed). */
  | 'ANALYSIS_FAILED'
  /** A feedback was submitted (body type feedback.submitted). */
  | 'FEEDBACK_SUBMITTED'
  /** A suggestion was applied (suggestion.applied). */
  | 'SUGGESTION_APPLIED'
  /** A suggestion was rejected (suggestion.rejected). */
  | 'SUGGESTION_REJECTED'
  /** An applied suggestion was reverted (suggestion.reverted). */
  | 'SUGGESTION_REVERTED'
  /** A task was created (task.created). */
  | 'TASK_CREATED'
  /** A task was deleted (task.deleted). */
  | 'TASK_DELETED'
  /** A task was changed (task.updated). */
  | 'TASK_UPDATED'
  /** Another of the project's endpoints was disabled after a day of failures (webhook.disabled). */
  | 'WEBHOOK_DISABLED';

/** WebhookKind is enum for the field kind */
export type WebhookKind =
  | 'SLACK'
  | 'STANDARD';

/** Ordering options for Webhook connections */
export type WebhookOrder = {
  /** The ordering direction. */
  direction?: OrderDirection;
  /** The field by which to order Webhooks. */
  field: WebhookOrderField;
};

/** Properties by which Webhook connections can be ordered. */
export type WebhookOrderField =
  | 'CREATED_AT'
  | 'UPDATED_AT';

export type ViewerQueryVariables = Exact<{ [key: string]: never; }>;


export type ViewerQuery = { __typename?: 'Query', viewer: { __typename?: 'Viewer', id: string, subject: string, name?: string | null, kind: ViewerKind, isAdmin: boolean, memberships: Array<{ __typename?: 'ViewerMembership', role: Role, project: { __typename?: 'Project', id: string } }> } };

export type ProjectsQueryVariables = Exact<{
  after?: InputMaybe<Scalars['Cursor']['input']>;
}>;


export type ProjectsQuery = { __typename?: 'Query', projects: { __typename?: 'ProjectConnection', totalCount: number, pageInfo: { __typename?: 'PageInfo', hasNextPage: boolean, endCursor?: string | null }, edges?: Array<{ __typename?: 'ProjectEdge', node?: { __typename?: 'Project', id: string, name: string, description?: string | null, status: ProjectStatus } | null } | null> | null } };

export type CreateProjectMutationVariables = Exact<{
  name: Scalars['String']['input'];
}>;


export type CreateProjectMutation = { __typename?: 'Mutation', createProject: { __typename?: 'Project', id: string, name: string } };

export type ProjectInsightsQueryVariables = Exact<{
  projectID: Scalars['ID']['input'];
}>;


export type ProjectInsightsQuery = { __typename?: 'Query', node?: { __typename?: 'Adjustment' } | { __typename?: 'Analysis' } | { __typename?: 'ApiKey' } | { __typename?: 'AutoApplyRule' } | { __typename?: 'Comment' } | { __typename?: 'Feedback' } | { __typename?: 'GitHubRepository' } | { __typename?: 'Organization' } | { __typename?: 'Project', id: string, name: string } | { __typename?: 'ProjectMember' } | { __typename?: 'Task' } | { __typename?: 'User' } | { __typename?: 'Webhook' } | { __typename?: 'WebhookDelivery' } | null, projectInsights: { __typename?: 'ProjectInsights', feedbackCount: number, feedbackPerDay: Array<{ __typename?: 'FeedbackDayCount', date: string, count: number, pending: number, processing: number, completed: number, failed: number }>, processingTime: { __typename?: 'ProcessingTimeStats', count: number, p50Ms?: number | null, p95Ms?: number | null }, suggestions: { __typename?: 'SuggestionStats', total: number, acceptanceRate?: number | null, byType: Array<{ __typename?: 'SuggestionTypeStats', type: AdjustmentType, total: number, applied: number, rejected: number, pending: number, acceptanceRate?: number | null }> }, models: Array<{ __typename?: 'ModelStats', provider?: string | null, model?: string | null, completed: number, processingTime: { __typename?: 'ProcessingTimeStats', p50Ms?: number | null, p95Ms?: number | null }, suggestions: { __typename?: 'SuggestionStats', total: number, applied: number, rejected: number, acceptanceRate?: number | null } }>, topTasks: Array<{ __typename?: 'TaskMention', mentions: number, task: { __typename?: 'Task', id: string, title: string } }>, themes: Array<{ __typename?: 'FeedbackTheme', text: string, count: number }> } };

export type ProjectHeadQueryVariables = Exact<{
  projectID: Scalars['ID']['input'];
}>;


export type ProjectHeadQuery = { __typename?: 'Query', node?: { __typename?: 'Adjustment' } | { __typename?: 'Analysis' } | { __typename?: 'ApiKey' } | { __typename?: 'AutoApplyRule' } | { __typename?: 'Comment' } | { __typename?: 'Feedback' } | { __typename?: 'GitHubRepository' } | { __typename?: 'Organization' } | { __typename?: 'Project', id: string, name: string, description?: string | null } | { __typename?: 'ProjectMember' } | { __typename?: 'Task' } | { __typename?: 'User' } | { __typename?: 'Webhook' } | { __typename?: 'WebhookDelivery' } | null };

export type BoardColumnQueryVariables = Exact<{
  projectID: Scalars['ID']['input'];
  status: TaskStatus;
  after?: InputMaybe<Scalars['Cursor']['input']>;
}>;


export type BoardColumnQuery = { __typename?: 'Query', node?: { __typename?: 'Adjustment' } | { __typename?: 'Analysis' } | { __typename?: 'ApiKey' } | { __typename?: 'AutoApplyRule' } | { __typename?: 'Comment' } | { __typename?: 'Feedback' } | { __typename?: 'GitHubRepository' } | { __typename?: 'Organization' } | { __typename?: 'Project', id: string, tasks: { __typename?: 'TaskConnection', totalCount: number, pageInfo: { __typename?: 'PageInfo', hasNextPage: boolean, endCursor?: string | null }, edges?: Array<{ __typename?: 'TaskEdge', node?: { __typename?: 'Task', id: string, title: string, description?: string | null, status: TaskStatus, priority: number, estimatedHours?: number | null, version: number } | null } | null> | null } } | { __typename?: 'ProjectMember' } | { __typename?: 'Task' } | { __typename?: 'User' } | { __typename?: 'Webhook' } | { __typename?: 'WebhookDelivery' } | null };

export type FeedbackPageQueryVariables = Exact<{
  projectID: Scalars['ID']['input'];
  after?: InputMaybe<Scalars['Cursor']['input']>;
}>;


export type FeedbackPageQuery = { __typename?: 'Query', node?: { __typename?: 'Adjustment' } | { __typename?: 'Analysis' } | { __typename?: 'ApiKey' } | { __typename?: 'AutoApplyRule' } | { __typename?: 'Comment' } | { __typename?: 'Feedback' } | { __typename?: 'GitHubRepository' } | { __typename?: 'Organization' } | { __typename?: 'Project', id: string, feedbacks: { __typename?: 'FeedbackConnection', totalCount: number, pageInfo: { __typename?: 'PageInfo', hasNextPage: boolean, endCursor?: string | null }, edges?: Array<{ __typename?: 'FeedbackEdge', node?: { __typename?: 'Feedback', id: string, userName?: string | null, feedbackText: string, status: FeedbackStatus, summary?: string | null, error?: string | null, createdAt: string, model?: string | null, adjustments: Array<{ __typename?: 'Adjustment', id: string, feedbackID: string, adjustmentType: AdjustmentType, description: string, originalValue?: string | null, newValue?: string | null, reasoning?: string | null, confidence?: number | null, status: AdjustmentStatus, score: number, viewerVote?: Vote | null, reason?: string | null, task?: { __typename?: 'Task', id: string, title: string } | null }> } | null } | null> | null } } | { __typename?: 'ProjectMember' } | { __typename?: 'Task' } | { __typename?: 'User' } | { __typename?: 'Webhook' } | { __typename?: 'WebhookDelivery' } | null };

export type CreateTaskMutationVariables = Exact<{
  input: CreateTaskInput;
}>;


export type CreateTaskMutation = { __typename?: 'Mutation', createTask: { __typename?: 'Task', id: string, title: string, description?: string | null, status: TaskStatus, priority: number, estimatedHours?: number | null, version: number } };

export type SubmitFeedbackMutationVariables = Exact<{
  input: SubmitFeedbackInput;
}>;


export type SubmitFeedbackMutation = { __typename?: 'Mutation', submitFeedback: { __typename?: 'Feedback', id: string, userName?: string | null, feedbackText: string, status: FeedbackStatus, summary?: string | null, error?: string | null, createdAt: string, model?: string | null, adjustments: Array<{ __typename?: 'Adjustment', id: string, feedbackID: string, adjustmentType: AdjustmentType, description: string, originalValue?: string | null, newValue?: string | null, reasoning?: string | null, confidence?: number | null, status: AdjustmentStatus, score: number, viewerVote?: Vote | null, reason?: string | null, task?: { __typename?: 'Task', id: string, title: string } | null }> } };

export type ApplySuggestionMutationVariables = Exact<{
  id: Scalars['ID']['input'];
  force?: InputMaybe<Scalars['Boolean']['input']>;
}>;


export type ApplySuggestionMutation = { __typename?: 'Mutation', applyAdjustment: { __typename?: 'AdjustmentDecisionPayload', adjustment: { __typename?: 'Adjustment', id: string, feedbackID: string, adjustmentType: AdjustmentType, description: string, originalValue?: string | null, newValue?: string | null, reasoning?: string | null, confidence?: number | null, status: AdjustmentStatus, score: number, viewerVote?: Vote | null, reason?: string | null, task?: { __typename?: 'Task', id: string, title: string } | null }, task?: { __typename?: 'Task', id: string, title: string, description?: string | null, status: TaskStatus, priority: number, estimatedHours?: number | null, version: number } | null } };

export type RejectSuggestionMutationVariables = Exact<{
  id: Scalars['ID']['input'];
  reason?: InputMaybe<Scalars['String']['input']>;
}>;


export type RejectSuggestionMutation = { __typename?: 'Mutation', rejectAdjustment: { __typename?: 'AdjustmentDecisionPayload', adjustment: { __typename?: 'Adjustment', id: string, feedbackID: string, adjustmentType: AdjustmentType, description: string, originalValue?: string | null, newValue?: string | null, reasoning?: string | null, confidence?: number | null, status: AdjustmentStatus, score: number, viewerVote?: Vote | null, reason?: string | null, task?: { __typename?: 'Task', id: string, title: string } | null }, task?: { __typename?: 'Task', id: string, title: string, description?: string | null, status: TaskStatus, priority: number, estimatedHours?: number | null, version: number } | null } };

export type RevertSuggestionMutationVariables = Exact<{
  id: Scalars['ID']['input'];
}>;


export type RevertSuggestionMutation = { __typename?: 'Mutation', revertAdjustment: { __typename?: 'AdjustmentDecisionPayload', adjustment: { __typename?: 'Adjustment', id: string, feedbackID: string, adjustmentType: AdjustmentType, description: string, originalValue?: string | null, newValue?: string | null, reasoning?: string | null, confidence?: number | null, status: AdjustmentStatus, score: number, viewerVote?: Vote | null, reason?: string | null, task?: { __typename?: 'Task', id: string, title: string } | null }, task?: { __typename?: 'Task', id: string, title: string, description?: string | null, status: TaskStatus, priority: number, estimatedHours?: number | null, version: number } | null } };

export type VoteSuggestionMutationVariables = Exact<{
  id: Scalars['ID']['input'];
  value: Vote;
}>;


export type VoteSuggestionMutation = { __typename?: 'Mutation', voteAdjustment: { __typename?: 'Adjustment', id: string, feedbackID: string, adjustmentType: AdjustmentType, description: string, originalValue?: string | null, newValue?: string | null, reasoning?: string | null, confidence?: number | null, status: AdjustmentStatus, score: number, viewerVote?: Vote | null, reason?: string | null, task?: { __typename?: 'Task', id: string, title: string } | null } };

export type SuggestionCommentsQueryVariables = Exact<{
  id: Scalars['ID']['input'];
}>;


export type SuggestionCommentsQuery = { __typename?: 'Query', node?: { __typename?: 'Adjustment', id: string, comments: { __typename?: 'CommentConnection', totalCount: number, edges?: Array<{ __typename?: 'CommentEdge', node?: { __typename?: 'Comment', id: string, body: string, createdAt: string, editedAt?: string | null, author?: { __typename?: 'User', id: string, subject: string, name?: string | null } | null } | null } | null> | null } } | { __typename?: 'Analysis' } | { __typename?: 'ApiKey' } | { __typename?: 'AutoApplyRule' } | { __typename?: 'Comment' } | { __typename?: 'Feedback' } | { __typename?: 'GitHubRepository' } | { __typename?: 'Organization' } | { __typename?: 'Project' } | { __typename?: 'ProjectMember' } | { __typename?: 'Task' } | { __typename?: 'User' } | { __typename?: 'Webhook' } | { __typename?: 'WebhookDelivery' } | null };

export type AddCommentMutationVariables = Exact<{
  targetID: Scalars['ID']['input'];
  body: Scalars['String']['input'];
}>;


export type AddCommentMutation = { __typename?: 'Mutation', addComment: { __typename?: 'Comment', id: string, body: string, createdAt: string, editedAt?: string | null, author?: { __typename?: 'User', id: string, subject: string, name?: string | null } | null } };

export type ProjectEventsSubscriptionVariables = Exact<{
  projectID: Scalars['ID']['input'];
  after?: InputMaybe<Scalars['String']['input']>;
}>;


export type ProjectEventsSubscription = { __typename?: 'Subscription', projectEvents: { __typename: 'AdjustmentEvent', cursor: string, adjustmentStatus: AdjustmentStatus, adjustment: { __typename?: 'Adjustment', id: string, feedbackID: string, adjustmentType: AdjustmentType, description: string, originalValue?: string | null, newValue?: string | null, reasoning?: string | null, confidence?: number | null, status: AdjustmentStatus, score: number, viewerVote?: Vote | null, reason?: string | null, task?: { __typename?: 'Task', id: string, title: string } | null } } | { __typename: 'CommentEvent', cursor: string, commentChange: CommentChange, comment: { __typename?: 'Comment', adjustmentID?: string | null, feedbackID?: string | null, id: string, body: string, createdAt: string, editedAt?: string | null, author?: { __typename?: 'User', id: string, subject: string, name?: string | null } | null } } | { __typename: 'FeedbackStatusEvent', cursor: string, feedbackStatus: FeedbackStatus, feedback: { __typename?: 'Feedback', id: string, userName?: string | null, feedbackText: string, status: FeedbackStatus, summary?: string | null, error?: string | null, createdAt: string, model?: string | null, adjustments: Array<{ __typename?: 'Adjustment', id: string, feedbackID: string, adjustmentType: AdjustmentType, description: string, originalValue?: string | null, newValue?: string | null, reasoning?: string | null, confidence?: number | null, status: AdjustmentStatus, score: number, viewerVote?: Vote | null, reason?: string | null, task?: { __typename?: 'Task', id: string, title: string } | null }> } } | { __typename: 'TaskEvent', cursor: string, taskChange: TaskChange, task: { __typename?: 'Task', id: string, title: string, description?: string | null, status: TaskStatus, priority: number, estimatedHours?: number | null, version: number } } | { __typename: 'VoteEvent', cursor: string, score: number, adjustment: { __typename?: 'Adjustment', id: string, score: number } } };

export type TaskCardFragment = { __typename?: 'Task', id: string, title: string, description?: string | null, status: TaskStatus, priority: number, estimatedHours?: number | null, version: number };

export type SuggestionFragment = { __typename?: 'Adjustment', id: string, feedbackID: string, adjustmentType: AdjustmentType, description: string, originalValue?: string | null, newValue?: string | null, reasoning?: string | null, confidence?: number | null, status: AdjustmentStatus, score: number, viewerVote?: Vote | null, reason?: string | null, task?: { __typename?: 'Task', id: string, title: string } | null };

export type FeedbackItemFragment = { __typename?: 'Feedback', id: string, userName?: string | null, feedbackText: string, status: FeedbackStatus, summary?: string | null, error?: string | null, createdAt: string, model?: string | null };

export type CommentItemFragment = { __typename?: 'Comment', id: string, body: string, createdAt: string, editedAt?: string | null, author?: { __typename?: 'User', id: string, subject: string, name?: string | null } | null };

export type ProjectVelocityQueryVariables = Exact<{
  projectID: Scalars['ID']['input'];
}>;


export type ProjectVelocityQuery = { __typename?: 'Query', projectVelocity: { __typename?: 'ProjectVelocity', completed: number, cycleTime: { __typename?: 'CycleTimeStats', count: number, p50Hours?: number | null, p95Hours?: number | null }, weeks: Array<{ __typename?: 'VelocityWeek', weekStart: string, isoWeek: string, completed: number, cycleTime: { __typename?: 'CycleTimeStats', p50Hours?: number | null, p95Hours?: number | null } }> } };

export const TaskCardFragmentDoc = {"kind":"Document","definitions":[{"kind":"FragmentDefinition","name":{"kind":"Name","value":"TaskCard"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Task"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"title"}},{"kind":"Field","name":{"kind":"Name","value":"description"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"priority"}},{"kind":"Field","name":{"kind":"Name","value":"estimatedHours"}},{"kind":"Field","name":{"kind":"Name","value":"version"}}]}}]} as unknown as DocumentNode<TaskCardFragment, unknown>;
export const SuggestionFragmentDoc = {"kind":"Document","definitions":[{"kind":"FragmentDefinition","name":{"kind":"Name","value":"Suggestion"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Adjustment"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"feedbackID"}},{"kind":"Field","name":{"kind":"Name","value":"adjustmentType"}},{"kind":"Field","name":{"kind":"Name","value":"description"}},{"kind":"Field","name":{"kind":"Name","value":"originalValue"}},{"kind":"Field","name":{"kind":"Name","value":"newValue"}},{"kind":"Field","name":{"kind":"Name","value":"reasoning"}},{"kind":"Field","name":{"kind":"Name","value":"confidence"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"score"}},{"kind":"Field","name":{"kind":"Name","value":"viewerVote"}},{"kind":"Field","name":{"kind":"Name","value":"reason"}},{"kind":"Field","name":{"kind":"Name","value":"task"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"title"}}]}}]}}]} as unknown as DocumentNode<SuggestionFragment, unknown>;
export const FeedbackItemFragmentDoc = {"kind":"Document","definitions":[{"kind":"FragmentDefinition","name":{"kind":"Name","value":"FeedbackItem"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Feedback"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"userName"}},{"kind":"Field","name":{"kind":"Name","value":"feedbackText"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"summary"}},{"kind":"Field","name":{"kind":"Name","value":"error"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}},{"kind":"Field","name":{"kind":"Name","value":"model"}}]}}]} as unknown as DocumentNode<FeedbackItemFragment, unknown>;
export const CommentItemFragmentDoc = {"kind":"Document","definitions":[{"kind":"FragmentDefinition","name":{"kind":"Name","value":"CommentItem"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Comment"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"body"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}},{"kind":"Field","name":{"kind":"Name","value":"editedAt"}},{"kind":"Field","name":{"kind":"Name","value":"author"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"subject"}},{"kind":"Field","name":{"kind":"Name","value":"name"}}]}}]}}]} as unknown as DocumentNode<CommentItemFragment, unknown>;
export const ViewerDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"Viewer"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"viewer"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"subject"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"kind"}},{"kind":"Field","name":{"kind":"Name","value":"isAdmin"}},{"kind":"Field","name":{"kind":"Name","value":"memberships"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"role"}},{"kind":"Field","name":{"kind":"Name","value":"project"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}}]}}]}}]}}]}}]} as unknown as DocumentNode<ViewerQuery, ViewerQueryVariables>;
export const ProjectsDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"Projects"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Cursor"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"projects"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"IntValue","value":"20"}},{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}},{"kind":"Argument","name":{"kind":"Name","value":"orderBy"},"value":{"kind":"ObjectValue","fields":[{"kind":"ObjectField","name":{"kind":"Name","value":"field"},"value":{"kind":"EnumValue","value":"CREATED_AT"}},{"kind":"ObjectField","name":{"kind":"Name","value":"direction"},"value":{"kind":"EnumValue","value":"DESC"}}]}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"pageInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"hasNextPage"}},{"kind":"Field","name":{"kind":"Name","value":"endCursor"}}]}},{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"description"}},{"kind":"Field","name":{"kind":"Name","value":"status"}}]}}]}}]}}]}}]} as unknown as DocumentNode<ProjectsQuery, ProjectsQueryVariables>;
export const CreateProjectDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"CreateProject"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"name"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"createProject"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"ObjectValue","fields":[{"kind":"ObjectField","name":{"kind":"Name","value":"name"},"value":{"kind":"Variable","name":{"kind":"Name","value":"name"}}}]}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}}]}}]}}]} as unknown as DocumentNode<CreateProjectMutation, CreateProjectMutationVariables>;
export const ProjectInsightsDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"ProjectInsights"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"projectID"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"projectID"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Project"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"projectInsights"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"projectID"},"value":{"kind":"Variable","name":{"kind":"Name","value":"projectID"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"feedbackCount"}},{"kind":"Field","name":{"kind":"Name","value":"feedbackPerDay"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"date"}},{"kind":"Field","name":{"kind":"Name","value":"count"}},{"kind":"Field","name":{"kind":"Name","value":"pending"}},{"kind":"Field","name":{"kind":"Name","value":"processing"}},{"kind":"Field","name":{"kind":"Name","value":"completed"}},{"kind":"Field","name":{"kind":"Name","value":"failed"}}]}},{"kind":"Field","name":{"kind":"Name","value":"processingTime"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"count"}},{"kind":"Field","name":{"kind":"Name","value":"p50Ms"}},{"kind":"Field","name":{"kind":"Name","value":"p95Ms"}}]}},{"kind":"Field","name":{"kind":"Name","value":"suggestions"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"total"}},{"kind":"Field","name":{"kind":"Name","value":"acceptanceRate"}},{"kind":"Field","name":{"kind":"Name","value":"byType"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"type"}},{"kind":"Field","name":{"kind":"Name","value":"total"}},{"kind":"Field","name":{"kind":"Name","value":"applied"}},{"kind":"Field","name":{"kind":"Name","value":"rejected"}},{"kind":"Field","name":{"kind":"Name","value":"pending"}},{"kind":"Field","name":{"kind":"Name","value":"acceptanceRate"}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"models"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"provider"}},{"kind":"Field","name":{"kind":"Name","value":"model"}},{"kind":"Field","name":{"kind":"Name","value":"completed"}},{"kind":"Field","name":{"kind":"Name","value":"processingTime"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"p50Ms"}},{"kind":"Field","name":{"kind":"Name","value":"p95Ms"}}]}},{"kind":"Field","name":{"kind":"Name","value":"suggestions"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"total"}},{"kind":"Field","name":{"kind":"Name","value":"applied"}},{"kind":"Field","name":{"kind":"Name","value":"rejected"}},{"kind":"Field","name":{"kind":"Name","value":"acceptanceRate"}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"topTasks"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"mentions"}},{"kind":"Field","name":{"kind":"Name","value":"task"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"title"}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"themes"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"IntValue","value":"5"}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"text"}},{"kind":"Field","name":{"kind":"Name","value":"count"}}]}}]}}]}}]} as unknown as DocumentNode<ProjectInsightsQuery, ProjectInsightsQueryVariables>;
export const ProjectHeadDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"ProjectHead"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"projectID"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"projectID"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Project"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"description"}}]}}]}}]}}]} as unknown as DocumentNode<ProjectHeadQuery, ProjectHeadQueryVariables>;
export const BoardColumnDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"BoardColumn"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"projectID"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"status"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"TaskStatus"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Cursor"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"projectID"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Project"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"tasks"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"IntValue","value":"20"}},{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}},{"kind":"Argument","name":{"kind":"Name","value":"where"},"value":{"kind":"ObjectValue","fields":[{"kind":"ObjectField","name":{"kind":"Name","value":"status"},"value":{"kind":"Variable","name":{"kind":"Name","value":"status"}}}]}},{"kind":"Argument","name":{"kind":"Name","value":"orderBy"},"value":{"kind":"ObjectValue","fields":[{"kind":"ObjectField","name":{"kind":"Name","value":"field"},"value":{"kind":"EnumValue","value":"PRIORITY"}},{"kind":"ObjectField","name":{"kind":"Name","value":"direction"},"value":{"kind":"EnumValue","value":"DESC"}}]}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"pageInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"hasNextPage"}},{"kind":"Field","name":{"kind":"Name","value":"endCursor"}}]}},{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"TaskCard"}}]}}]}}]}}]}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"TaskCard"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Task"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"title"}},{"kind":"Field","name":{"kind":"Name","value":"description"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"priority"}},{"kind":"Field","name":{"kind":"Name","value":"estimatedHours"}},{"kind":"Field","name":{"kind":"Name","value":"version"}}]}}]} as unknown as DocumentNode<BoardColumnQuery, BoardColumnQueryVariables>;
export const FeedbackPageDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"FeedbackPage"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"projectID"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Cursor"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"projectID"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Project"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"feedbacks"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"IntValue","value":"10"}},{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}},{"kind":"Argument","name":{"kind":"Name","value":"orderBy"},"value":{"kind":"ObjectValue","fields":[{"kind":"ObjectField","name":{"kind":"Name","value":"field"},"value":{"kind":"EnumValue","value":"CREATED_AT"}},{"kind":"ObjectField","name":{"kind":"Name","value":"direction"},"value":{"kind":"EnumValue","value":"DESC"}}]}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"pageInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"hasNextPage"}},{"kind":"Field","name":{"kind":"Name","value":"endCursor"}}]}},{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"FeedbackItem"}},{"kind":"Field","name":{"kind":"Name","value":"adjustments"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"Suggestion"}}]}}]}}]}}]}}]}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"FeedbackItem"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Feedback"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"userName"}},{"kind":"Field","name":{"kind":"Name","value":"feedbackText"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"summary"}},{"kind":"Field","name":{"kind":"Name","value":"error"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}},{"kind":"Field","name":{"kind":"Name","value":"model"}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"Suggestion"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Adjustment"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"feedbackID"}},{"kind":"Field","name":{"kind":"Name","value":"adjustmentType"}},{"kind":"Field","name":{"kind":"Name","value":"description"}},{"kind":"Field","name":{"kind":"Name","value":"originalValue"}},{"kind":"Field","name":{"kind":"Name","value":"newValue"}},{"kind":"Field","name":{"kind":"Name","value":"reasoning"}},{"kind":"Field","name":{"kind":"Name","value":"confidence"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"score"}},{"kind":"Field","name":{"kind":"Name","value":"viewerVote"}},{"kind":"Field","name":{"kind":"Name","value":"reason"}},{"kind":"Field","name":{"kind":"Name","value":"task"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"title"}}]}}]}}]} as unknown as DocumentNode<FeedbackPageQuery, FeedbackPageQueryVariables>;
export const CreateTaskDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"CreateTask"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"CreateTaskInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"createTask"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"TaskCard"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"TaskCard"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Task"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"title"}},{"kind":"Field","name":{"kind":"Name","value":"description"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"priority"}},{"kind":"Field","name":{"kind":"Name","value":"estimatedHours"}},{"kind":"Field","name":{"kind":"Name","value":"version"}}]}}]} as unknown as DocumentNode<CreateTaskMutation, CreateTaskMutationVariables>;
export const SubmitFeedbackDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"SubmitFeedback"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"SubmitFeedbackInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"submitFeedback"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"FeedbackItem"}},{"kind":"Field","name":{"kind":"Name","value":"adjustments"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"Suggestion"}}]}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"FeedbackItem"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Feedback"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"userName"}},{"kind":"Field","name":{"kind":"Name","value":"feedbackText"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"summary"}},{"kind":"Field","name":{"kind":"Name","value":"error"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}},{"kind":"Field","name":{"kind":"Name","value":"model"}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"Suggestion"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Adjustment"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"feedbackID"}},{"kind":"Field","name":{"kind":"Name","value":"adjustmentType"}},{"kind":"Field","name":{"kind":"Name","value":"description"}},{"kind":"Field","name":{"kind":"Name","value":"originalValue"}},{"kind":"Field","name":{"kind":"Name","value":"newValue"}},{"kind":"Field","name":{"kind":"Name","value":"reasoning"}},{"kind":"Field","name":{"kind":"Name","value":"confidence"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"score"}},{"kind":"Field","name":{"kind":"Name","value":"viewerVote"}},{"kind":"Field","name":{"kind":"Name","value":"reason"}},{"kind":"Field","name":{"kind":"Name","value":"task"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"title"}}]}}]}}]} as unknown as DocumentNode<SubmitFeedbackMutation, SubmitFeedbackMutationVariables>;
export const ApplySuggestionDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"ApplySuggestion"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"force"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Boolean"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"applyAdjustment"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}},{"kind":"Argument","name":{"kind":"Name","value":"force"},"value":{"kind":"Variable","name":{"kind":"Name","value":"force"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"adjustment"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"Suggestion"}}]}},{"kind":"Field","name":{"kind":"Name","value":"task"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"TaskCard"}}]}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"Suggestion"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Adjustment"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"feedbackID"}},{"kind":"Field","name":{"kind":"Name","value":"adjustmentType"}},{"kind":"Field","name":{"kind":"Name","value":"description"}},{"kind":"Field","name":{"kind":"Name","value":"originalValue"}},{"kind":"Field","name":{"kind":"Name","value":"newValue"}},{"kind":"Field","name":{"kind":"Name","value":"reasoning"}},{"kind":"Field","name":{"kind":"Name","value":"confidence"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"score"}},{"kind":"Field","name":{"kind":"Name","value":"viewerVote"}},{"kind":"Field","name":{"kind":"Name","value":"reason"}},{"kind":"Field","name":{"kind":"Name","value":"task"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"title"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"TaskCard"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Task"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"title"}},{"kind":"Field","name":{"kind":"Name","value":"description"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"priority"}},{"kind":"Field","name":{"kind":"Name","value":"estimatedHours"}},{"kind":"Field","name":{"kind":"Name","value":"version"}}]}}]} as unknown as DocumentNode<ApplySuggestionMutation, ApplySuggestionMutationVariables>;
export const RejectSuggestionDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"RejectSuggestion"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"reason"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"rejectAdjustment"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}},{"kind":"Argument","name":{"kind":"Name","value":"reason"},"value":{"kind":"Variable","name":{"kind":"Name","value":"reason"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"adjustment"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"Suggestion"}}]}},{"kind":"Field","name":{"kind":"Name","value":"task"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"TaskCard"}}]}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"Suggestion"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Adjustment"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"feedbackID"}},{"kind":"Field","name":{"kind":"Name","value":"adjustmentType"}},{"kind":"Field","name":{"kind":"Name","value":"description"}},{"kind":"Field","name":{"kind":"Name","value":"originalValue"}},{"kind":"Field","name":{"kind":"Name","value":"newValue"}},{"kind":"Field","name":{"kind":"Name","value":"reasoning"}},{"kind":"Field","name":{"kind":"Name","value":"confidence"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"score"}},{"kind":"Field","name":{"kind":"Name","value":"viewerVote"}},{"kind":"Field","name":{"kind":"Name","value":"reason"}},{"kind":"Field","name":{"kind":"Name","value":"task"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"title"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"TaskCard"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Task"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"title"}},{"kind":"Field","name":{"kind":"Name","value":"description"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"priority"}},{"kind":"Field","name":{"kind":"Name","value":"estimatedHours"}},{"kind":"Field","name":{"kind":"Name","value":"version"}}]}}]} as unknown as DocumentNode<RejectSuggestionMutation, RejectSuggestionMutationVariables>;
export const RevertSuggestionDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"RevertSuggestion"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"revertAdjustment"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"adjustment"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"Suggestion"}}]}},{"kind":"Field","name":{"kind":"Name","value":"task"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"TaskCard"}}]}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"Suggestion"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Adjustment"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"feedbackID"}},{"kind":"Field","name":{"kind":"Name","value":"adjustmentType"}},{"kind":"Field","name":{"kind":"Name","value":"description"}},{"kind":"Field","name":{"kind":"Name","value":"originalValue"}},{"kind":"Field","name":{"kind":"Name","value":"newValue"}},{"kind":"Field","name":{"kind":"Name","value":"reasoning"}},{"kind":"Field","name":{"kind":"Name","value":"confidence"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"score"}},{"kind":"Field","name":{"kind":"Name","value":"viewerVote"}},{"kind":"Field","name":{"kind":"Name","value":"reason"}},{"kind":"Field","name":{"kind":"Name","value":"task"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"title"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"TaskCard"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Task"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"title"}},{"kind":"Field","name":{"kind":"Name","value":"description"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"priority"}},{"kind":"Field","name":{"kind":"Name","value":"estimatedHours"}},{"kind":"Field","name":{"kind":"Name","value":"version"}}]}}]} as unknown as DocumentNode<RevertSuggestionMutation, RevertSuggestionMutationVariables>;
export const VoteSuggestionDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"VoteSuggestion"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"value"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Vote"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"voteAdjustment"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}},{"kind":"Argument","name":{"kind":"Name","value":"value"},"value":{"kind":"Variable","name":{"kind":"Name","value":"value"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"Suggestion"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"Suggestion"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Adjustment"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"feedbackID"}},{"kind":"Field","name":{"kind":"Name","value":"adjustmentType"}},{"kind":"Field","name":{"kind":"Name","value":"description"}},{"kind":"Field","name":{"kind":"Name","value":"originalValue"}},{"kind":"Field","name":{"kind":"Name","value":"newValue"}},{"kind":"Field","name":{"kind":"Name","value":"reasoning"}},{"kind":"Field","name":{"kind":"Name","value":"confidence"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"score"}},{"kind":"Field","name":{"kind":"Name","value":"viewerVote"}},{"kind":"Field","name":{"kind":"Name","value":"reason"}},{"kind":"Field","name":{"kind":"Name","value":"task"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"title"}}]}}]}}]} as unknown as DocumentNode<VoteSuggestionMutation, VoteSuggestionMutationVariables>;
export const SuggestionCommentsDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"SuggestionComments"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Adjustment"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"comments"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"IntValue","value":"50"}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"CommentItem"}}]}}]}}]}}]}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"CommentItem"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Comment"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"body"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}},{"kind":"Field","name":{"kind":"Name","value":"editedAt"}},{"kind":"Field","name":{"kind":"Name","value":"author"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"subject"}},{"kind":"Field","name":{"kind":"Name","value":"name"}}]}}]}}]} as unknown as DocumentNode<SuggestionCommentsQuery, SuggestionCommentsQueryVariables>;
export const AddCommentDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"AddComment"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"targetID"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"body"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"addComment"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"ObjectValue","fields":[{"kind":"ObjectField","name":{"kind":"Name","value":"targetID"},"value":{"kind":"Variable","name":{"kind":"Name","value":"targetID"}}},{"kind":"ObjectField","name":{"kind":"Name","value":"body"},"value":{"kind":"Variable","name":{"kind":"Name","value":"body"}}}]}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"CommentItem"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"CommentItem"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Comment"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"body"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}},{"kind":"Field","name":{"kind":"Name","value":"editedAt"}},{"kind":"Field","name":{"kind":"Name","value":"author"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"subject"}},{"kind":"Field","name":{"kind":"Name","value":"name"}}]}}]}}]} as unknown as DocumentNode<AddCommentMutation, AddCommentMutationVariables>;
export const ProjectEventsDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"subscription","name":{"kind":"Name","value":"ProjectEvents"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"projectID"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"projectEvents"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"projectID"},"value":{"kind":"Variable","name":{"kind":"Name","value":"projectID"}}},{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"FeedbackStatusEvent"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"cursor"}},{"kind":"Field","alias":{"kind":"Name","value":"feedbackStatus"},"name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"feedback"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"FeedbackItem"}},{"kind":"Field","name":{"kind":"Name","value":"adjustments"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"Suggestion"}}]}}]}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"TaskEvent"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"cursor"}},{"kind":"Field","alias":{"kind":"Name","value":"taskChange"},"name":{"kind":"Name","value":"change"}},{"kind":"Field","name":{"kind":"Name","value":"task"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"TaskCard"}}]}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"AdjustmentEvent"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"cursor"}},{"kind":"Field","alias":{"kind":"Name","value":"adjustmentStatus"},"name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"adjustment"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"Suggestion"}}]}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"CommentEvent"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"cursor"}},{"kind":"Field","alias":{"kind":"Name","value":"commentChange"},"name":{"kind":"Name","value":"change"}},{"kind":"Field","name":{"kind":"Name","value":"comment"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"CommentItem"}},{"kind":"Field","name":{"kind":"Name","value":"adjustmentID"}},{"kind":"Field","name":{"kind":"Name","value":"feedbackID"}}]}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"VoteEvent"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"cursor"}},{"kind":"Field","name":{"kind":"Name","value":"score"}},{"kind":"Field","name":{"kind":"Name","value":"adjustment"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"score"}}]}}]}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"FeedbackItem"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Feedback"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"userName"}},{"kind":"Field","name":{"kind":"Name","value":"feedbackText"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"summary"}},{"kind":"Field","name":{"kind":"Name","value":"error"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}},{"kind":"Field","name":{"kind":"Name","value":"model"}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"Suggestion"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Adjustment"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"feedbackID"}},{"kind":"Field","name":{"kind":"Name","value":"adjustmentType"}},{"kind":"Field","name":{"kind":"Name","value":"description"}},{"kind":"Field","name":{"kind":"Name","value":"originalValue"}},{"kind":"Field","name":{"kind":"Name","value":"newValue"}},{"kind":"Field","name":{"kind":"Name","value":"reasoning"}},{"kind":"Field","name":{"kind":"Name","value":"confidence"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"score"}},{"kind":"Field","name":{"kind":"Name","value":"viewerVote"}},{"kind":"Field","name":{"kind":"Name","value":"reason"}},{"kind":"Field","name":{"kind":"Name","value":"task"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"title"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"TaskCard"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Task"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"title"}},{"kind":"Field","name":{"kind":"Name","value":"description"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"priority"}},{"kind":"Field","name":{"kind":"Name","value":"estimatedHours"}},{"kind":"Field","name":{"kind":"Name","value":"version"}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"CommentItem"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Comment"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"body"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}},{"kind":"Field","name":{"kind":"Name","value":"editedAt"}},{"kind":"Field","name":{"kind":"Name","value":"author"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"subject"}},{"kind":"Field","name":{"kind":"Name","value":"name"}}]}}]}}]} as unknown as DocumentNode<ProjectEventsSubscription, ProjectEventsSubscriptionVariables>;
export const ProjectVelocityDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"ProjectVelocity"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"projectID"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"projectVelocity"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"projectID"},"value":{"kind":"Variable","name":{"kind":"Name","value":"projectID"}}},{"kind":"Argument","name":{"kind":"Name","value":"weeks"},"value":{"kind":"IntValue","value":"12"}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"completed"}},{"kind":"Field","name":{"kind":"Name","value":"cycleTime"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"count"}},{"kind":"Field","name":{"kind":"Name","value":"p50Hours"}},{"kind":"Field","name":{"kind":"Name","value":"p95Hours"}}]}},{"kind":"Field","name":{"kind":"Name","value":"weeks"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"weekStart"}},{"kind":"Field","name":{"kind":"Name","value":"isoWeek"}},{"kind":"Field","name":{"kind":"Name","value":"completed"}},{"kind":"Field","name":{"kind":"Name","value":"cycleTime"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"p50Hours"}},{"kind":"Field","name":{"kind":"Name","value":"p95Hours"}}]}}]}}]}}]}}]} as unknown as DocumentNode<ProjectVelocityQuery, ProjectVelocityQueryVariables>;