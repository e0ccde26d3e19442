// The project's live stream: every change to its tasks, feedback,
// suggestions, comments and votes, from projectEvents over graphql-ws.
//
// Resuming: each event carries a cursor. When the connection drops, the
// stream is opened again with after: <the last cursor seen>, so the server
// sends exactly the events missed meanwhile, in order, without duplicates.
import { useEffect, useRef, useState } from 'react';
import { print } from '@0no-co/graphql.web';
import { graphql } from './gql';
import type { ProjectEventsSubscription } from './gql/graphql';
import { describe, type Clients, type Problem } from './api';

export const ProjectEventsDoc = graphql(`
  subscription ProjectEvents($projectID: ID!, $after: String) {
    projectEvents(projectID: $projectID, after: $after) {
      __typename
      ... on FeedbackStatusEvent {
        cursor
        feedbackStatus: status
        feedback { ...FeedbackItem adjustments { ...Suggestion } }
      }
      ... on TaskEvent {
        cursor
        taskChange: change
        task { ...TaskCard }
      }
      ... on AdjustmentEvent {
        cursor
        adjustmentStatus: status
        adjustment { ...Suggestion }
      }
      ... on CommentEvent {
        cursor
        commentChange: change
        comment { ...CommentItem adjustmentID feedbackID }
      }
      ... on VoteEvent {
        cursor
        score
        adjustment { id score }
      }
    }
  }
`);

export type ProjectEvent = ProjectEventsSubscription['projectEvents'];

export type StreamState = { live: boolean; reconnects: number; problem?: Problem };

const query = print(ProjectEventsDoc);

export function useProjectEvents(clients: Clients, projectID: string, onEvent: (ev: ProjectEvent) => void): StreamState {
  const [state, setState] = useState<StreamState>({ live: false, reconnects: 0 });
  const handler = useRef(onEvent);
  handler.current = onEvent;

  useEffect(() => {
    let after: string | null = null;
    let stopped = false;
    let unsubscribe = () => {};
    let retry: ReturnType<typeof setTimeout> | undefined;
    let failures = 0;
    const offConnected = clients.ws.on('connected', () => {
      failures = 0;
      setState((s) => ({ ...s, live: true, problem: undefined }));
    });
    const offClosed = clients.ws.on('closed', () => setState((s) => ({ ...s, live: false })));

    const again = () => {
      if (stopped) return;
      failures++;
      setState((s) => ({ ...s, live: false, reconnects: s.reconnects + 1 }));
      // 0.5 s, 1 s, 2 s … up to 15 s between attempts.
      retry = setTimeout(open, Math.min(15000, 500 * 2 ** Math.min(failures - 1, 5)));
    };
    function open() {
      unsubscribe = clients.ws.subscribe<ProjectEventsSubscription>(
        { query, variables: { projectID, after } },
        {
          next: (result) => {
            if (result.errors?.length) {
              setState((s) => ({ ...s, problem: describe(result.errors) }));
              return;
            }
            const ev = result.data?.projectEvents;
            if (!ev) return;
            after = ev.cursor;
            handler.current(ev);
          },
          error: (err) => {
            // A refusal (errors array) is final; a lost connection is not.
            if (Array.isArray(err)) {
              setState((s) => ({ ...s, live: false, problem: describe(err) }));
              return;
            }
            again();
          },
          complete: () => again(),
        },
      );
    }
    open();
    return () => {
      stopped = true;
      clearTimeout(retry);
      unsubscribe();
      offConnected();
      offClosed();
    };
  }, [clients, projectID]);
  return state;
}
